"""Factories of the core models. Each app's factories live in tests/<app>/factories.py; the
cross-organisation walk finds them all (see tests/tenancy.py)."""

import datetime

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from passnum.accounts.models import User
from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.models import ApiToken, Invitation, Membership, Organisation
from passnum.organisations.tokens import hash_key
from passnum.organisations.validators import siret_from_prefix

DEFAULT_PASSWORD = "un-mot-de-passe-solide"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    class Params:
        staff = factory.Trait(is_staff=True, is_superuser=True)

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)
            obj.save()

    @factory.post_generation
    def with_mfa(obj, create, extracted, **kwargs):
        if create and extracted:
            TOTP.activate(obj, generate_totp_secret())


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.SPONSOR
    name = factory.Sequence(lambda n: f"Organisation {n}")
    siret = factory.Sequence(lambda n: siret_from_prefix(f"{10000000 + n:08d}0001"))
    postcode = "33000"
    city = "Bordeaux"

    class Params:
        operator = factory.Trait(kind=OrganisationKind.OPERATOR)
        sponsor = factory.Trait(kind=OrganisationKind.SPONSOR)
        funder = factory.Trait(kind=OrganisationKind.FUNDER)
        prescriber = factory.Trait(kind=OrganisationKind.PRESCRIBER)
        site = factory.Trait(kind=OrganisationKind.SITE)
        company = factory.Trait(kind=OrganisationKind.COMPANY, postcode="97200", city="Fort-de-France")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.MEMBER

    class Params:
        admin = factory.Trait(role=Role.ADMIN)
        finance = factory.Trait(role=Role.FINANCE, user=factory.SubFactory(UserFactory, with_mfa=True))


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invite{n}@exemple.fr")
    role = Role.MEMBER
    invited_by = factory.SubFactory(UserFactory)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiToken

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    name = "Téléphone de l'accueil"
    key_hash = factory.Sequence(lambda n: hash_key(f"pn_test_{n}"))
    prefix = "pn_test"
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=365))

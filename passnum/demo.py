"""Demo data: organisations of every kind and one account per role.

``python manage.py demo`` calls ``build_core`` then the ``demo.build(context)`` function of every
installed Passnum app that has one, so each feature adds its own demo data and its keys to the
``--json`` output. Every step is idempotent: running the demo again changes nothing.
"""

import importlib
import secrets

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.conf import settings
from django.db import transaction

from passnum import demo_year
from passnum.accounts.models import User
from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.models import Membership, Organisation
from passnum.organisations.validators import siret_from_prefix

DEMO_PASSWORD = "passnum-demo-2026"  # noqa: S105 - printed by the demo, embedded default only
# Known only on the embedded default (a developer's machine); never used with a real database.
DEMO_TOTP_SECRET = "PASSNUMDEMOTOTPSECRETPASSNUMDEMO"  # noqa: S105

ORGANISATIONS = [
    # key, kind, name, SIRET prefix, postcode, city
    ("operator", OrganisationKind.OPERATOR, "Coopérative Passnum", "800100010001", "33000", "Bordeaux"),
    ("sponsor", OrganisationKind.SPONSOR, "Département de la Gironde", "223300010001", "33000", "Bordeaux"),
    (
        "funder",
        OrganisationKind.FUNDER,
        "Agence nationale de la cohésion des territoires",
        "130000010001",
        "92120",
        "Montrouge",
    ),
    ("prescriber", OrganisationKind.PRESCRIBER, "CCAS de Bordeaux", "263300010001", "33000", "Bordeaux"),
    ("site", OrganisationKind.SITE, "Espace numérique de Talence", "780330010001", "33400", "Talence"),
    # The business grant (sponsors/grants/demo.py): the instructing authority and a company.
    (
        "grant_sponsor",
        OrganisationKind.SPONSOR,
        "Collectivité Territoriale de Martinique",
        "200055500001",
        "97200",
        "Fort-de-France",
    ),
    ("company", OrganisationKind.COMPANY, "Atelier Madinina", "972000010001", "97200", "Fort-de-France"),
]

ACCOUNTS = [
    # e-mail, first name, last name, organisation key, role, staff
    ("operateur@demo.passnum.fr", "Odile", "Opérateur", "operator", Role.ADMIN, True),
    ("commanditaire@demo.passnum.fr", "Serge", "Commanditaire", "sponsor", Role.ADMIN, False),
    ("finances@demo.passnum.fr", "Fanny", "Finances", "sponsor", Role.FINANCE, False),
    ("cofinanceur@demo.passnum.fr", "Claire", "Cofinanceur", "funder", Role.MEMBER, False),
    ("prescripteur@demo.passnum.fr", "Paul", "Prescripteur", "prescriber", Role.ADMIN, False),
    ("guichet@demo.passnum.fr", "Gaëlle", "Guichet", "prescriber", Role.MEMBER, False),
    ("site@demo.passnum.fr", "Samir", "Médiateur", "site", Role.ADMIN, False),
    ("mediateur@demo.passnum.fr", "Mona", "Médiatrice", "site", Role.MEMBER, False),
    ("instructeur@demo.passnum.fr", "Inès", "Instructrice", "grant_sponsor", Role.ADMIN, False),
    ("entreprise@demo.passnum.fr", "Émile", "Entrepreneur", "company", Role.ADMIN, False),
]


class DemoContext:
    """What the demo steps share: organisations, accounts and the JSON output."""

    def __init__(self, embedded):
        self.embedded = embedded
        self.organisations = {}
        self.users = {}
        self.output = {"accounts": []}


def _organisation(key, kind, name, siret_prefix, postcode, city):
    organisation, _ = Organisation.objects.get_or_create(
        siret=siret_from_prefix(siret_prefix),
        defaults={
            "kind": kind,
            "name": name,
            "postcode": postcode,
            "city": city,
            "email": f"contact-{key}@demo.passnum.fr",
        },
    )
    return organisation


def _account(context, email, first_name, last_name, organisation, role, staff):
    user = User.objects.filter(email=email).first()
    password = DEMO_PASSWORD if context.embedded else None
    if user is None:
        if password is None:
            password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            is_staff=staff,
            is_superuser=staff,
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    Membership.objects.get_or_create(user=user, organisation=organisation, defaults={"role": role})
    entry = {
        "email": email,
        "password": password,
        "role": role.value,
        "organisation": organisation.name,
        "kind": organisation.kind,
    }
    if staff or role in (Role.ADMIN, Role.FINANCE) or organisation.kind == OrganisationKind.OPERATOR:
        entry["totp_secret"] = _totp(context, user)
    context.users[email] = user
    context.output["accounts"].append(entry)


def _totp(context, user):
    """Sets up the second factor of accounts that require it, and tells the secret."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        return DEMO_TOTP_SECRET if context.embedded else None
    secret = DEMO_TOTP_SECRET if context.embedded else generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def build_core(context):
    for key, *fields in ORGANISATIONS:
        context.organisations[key] = _organisation(key, *fields)
    for email, first_name, last_name, key, role, staff in ACCOUNTS:
        _account(context, email, first_name, last_name, context.organisations[key], role, staff)


# Demos that tell what the year of use paid for: the co-funder's agreement goes to the programme
# with the most value settled, and its quarterly statement counts what was settled.
AFTER_THE_YEAR = {"sponsors.calls"}


def build(*, embedded=None):
    """Runs every demo step in one transaction and returns the JSON-ready output."""
    if embedded is None:
        embedded = settings.EMBEDDED_DEFAULT
    context = DemoContext(embedded)
    with transaction.atomic():
        build_core(context)
        after_the_year = []
        for app_config in apps.get_app_configs():
            if app_config.name == "passnum" or app_config.name.startswith("passnum."):
                continue
            try:
                module = importlib.import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app_config.name}.demo":
                    raise
                continue
            if app_config.name in AFTER_THE_YEAR:
                after_the_year.append(module)
            else:
                module.build(context)
        demo_year.build(context)  # after every app's demo: a year of use, its months closed and paid
        for module in after_the_year:
            module.build(context)
    return context.output

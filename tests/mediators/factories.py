"""Factories of mediation sites. Each default creates its owning organisation of kind SITE, as
the cross-organisation walk needs."""

import datetime
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from aptic_catalog.models import Service
from aptic_catalog.services import ensure_referential_loaded
from mediators.models import (
    CatalogueItem,
    DocumentKind,
    PayeeAccount,
    PayeeKind,
    PointOfPresence,
    QualificationStatus,
    Sector,
    Site,
    Subscription,
    SupportingDocument,
    Workshop,
)
from tests.factories import OrganisationFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VALID_IBAN = "FR7630006000011234567890189"
VALID_BIC = "AGRIFRPPXXX"


def aptic_service(code=1):
    ensure_referential_loaded()
    return Service.objects.get(code=code)


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(OrganisationFactory, site=True)
    legal_form = "association"
    sector = Sector.PRIVATE
    status = QualificationStatus.DRAFT

    class Params:
        qualified = factory.Trait(status=QualificationStatus.QUALIFIED, qualified_at=factory.LazyFunction(timezone.now))
        submitted = factory.Trait(status=QualificationStatus.SUBMITTED, submitted_at=factory.LazyFunction(timezone.now))
        suspended = factory.Trait(status=QualificationStatus.SUSPENDED)
        public = factory.Trait(sector=Sector.PUBLIC, legal_form="commune")


class PointOfPresenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PointOfPresence

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Médiathèque {n}")
    address = "12 rue Paul Bert"
    postcode = "33400"
    commune = "Talence"
    insee_code = "33522"
    latitude = Decimal("44.808300")
    longitude = Decimal("-0.588000")
    opening_hours = "Mo-Fr 09:00-12:00,14:00-18:00"
    phone = "0556000000"
    email = "accueil@exemple.fr"


class CatalogueItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogueItem

    site = factory.SubFactory(SiteFactory)
    service = factory.LazyFunction(aptic_service)
    passes_required = 1
    duration_minutes = 120
    tariff_cents = 1000


class SupportingDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportingDocument

    site = factory.SubFactory(SiteFactory)
    kind = DocumentKind.STATUTES
    file = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="statuts.pdf"))
    original_name = "statuts.pdf"
    content_type = "application/pdf"
    size = len(PDF_BYTES)


class PayeeAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayeeAccount

    site = factory.SubFactory(SiteFactory)
    payee_kind = PayeeKind.SELF
    holder_name = "Association Exemple"
    iban = VALID_IBAN
    bic = VALID_BIC


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    site = factory.SubFactory(SiteFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    amount_cents = 7700
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class WorkshopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workshop

    site = factory.SubFactory(SiteFactory, qualified=True)
    point_of_presence = factory.SubFactory(PointOfPresenceFactory, site=factory.SelfAttribute("..site"))
    service = factory.LazyFunction(aptic_service)
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    duration_minutes = 120
    seats = 8

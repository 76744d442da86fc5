"""Factories of mediation sites. Each default creates its owning organisation of kind SITE, as
the cross-organisation walk needs."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import factory
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from aptic_catalog.models import Service
from aptic_catalog.services import ensure_referential_loaded
from mediators.places.models import CatalogueItem, PointOfPresence, Workshop
from mediators.qualification.models import (
    DocumentKind,
    QualificationStatus,
    Sector,
    Site,
    Subscription,
    SupportingDocument,
)
from mediators.redemption.models import Redemption, RefusedScan
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


# --- redemption ----------------------------------------------------------------------------------


def redeemable_booklet(**programme):
    """A handed-out booklet (10 active passes) of a new paid programme covering the Gironde."""
    from passnum.passes import services as pass_services
    from tests.beneficiaries.factories import booklets_in_stock

    programme.setdefault("departments", ["33"])
    programme.setdefault("communes", [])
    booklet = booklets_in_stock(OrganisationFactory(prescriber=True), 1, **programme)[0]
    pass_services.hand_out_booklet(booklet)
    return booklet


def pass_in_each_situation(place):
    """One pass in each situation a person may meet, through the services (``place`` from
    ``redeeming_site``): ``{situation: pass}``, the situations covering every ``PassState``."""
    from beneficiaries import services as beneficiary_services
    from passnum.passes import services as pass_services
    from passnum.passes.models import JournalKind, Pass, PassState
    from tests.beneficiaries.factories import booklets_in_stock

    prescriber = OrganisationFactory(prescriber=True)
    paid, unpaid = booklets_in_stock(prescriber, 1)[0], booklets_in_stock(prescriber, 1, paid=False)[0]
    handed_out = redeemable_booklet()
    active, redeemed, expired = handed_out.passes.order_by("position")[:3]
    redeem_passes(place, [redeemed])
    with transaction.atomic():
        pass_services.transition(
            Pass.objects.filter(pk=expired.pk), JournalKind.EXPIRED, PassState.EXPIRED, from_states=[PassState.ACTIVE]
        )
    lost = redeemable_booklet()
    beneficiary_services.declare_lost(lost.holder, lost.serial)
    situations = {
        "paid_not_handed_out": paid.passes.first(),
        "unpaid_not_handed_out": unpaid.passes.first(),
        "handed_out": active,
        "redeemed": redeemed,
        "expired": expired,
        "cancelled": lost.passes.first(),
    }
    return {name: Pass.objects.get(pk=p.pk) for name, p in situations.items()}


def redeeming_site(*, passes_required=1, service_code=1, **site):
    """A qualified site with a point of presence in Talence (33), one catalogue entry and a member."""
    from tests.factories import MembershipFactory

    site = SiteFactory(qualified=True, **site)
    point = PointOfPresenceFactory(site=site)
    item = CatalogueItemFactory(site=site, service=aptic_service(service_code), passes_required=passes_required)
    user = MembershipFactory(organisation=site.organisation).user
    return SimpleNamespace(site=site, organisation=site.organisation, point=point, item=item, user=user)


def redeem_passes(place, passes, **extra):
    """Redeems ``passes`` at ``place`` (from ``redeeming_site``) through the service."""
    from mediators.redemption import services

    return services.redeem(
        place.organisation,
        user=place.user,
        codes_entered=[p.code for p in passes],
        service_code=place.item.service.code,
        point_id=place.point.pk,
        **extra,
    )


class RedemptionFactory(factory.django.DjangoModelFactory):
    """A real redemption (through the service) of the first pass of a new booklet."""

    class Meta:
        model = Redemption

    site = factory.SubFactory(SiteFactory, qualified=True)

    @classmethod
    def _create(cls, model_class, site, **kwargs):
        point = PointOfPresenceFactory(site=site)
        item = CatalogueItemFactory(site=site)
        place = SimpleNamespace(organisation=site.organisation, user=None, point=point, item=item)
        booklet = redeemable_booklet()
        return redeem_passes(place, [booklet.passes.order_by("position").first()])


class RefusedScanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefusedScan

    organisation = factory.SubFactory(OrganisationFactory, site=True)
    entered = "ABCD-EFGH-JKMN-P"
    reason = "code_mistyped"
    message = "Ce code comporte une faute de frappe."
    at = factory.LazyFunction(timezone.now)

"""Factories and helpers of clearing: real redemptions (through the service) moved into a past
month, and statements."""

import datetime

import factory
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from clearing.models import Adjustment, CreditNote, ExpiryAlert, Statement, SubscriptionInvoice
from clearing.services import PARIS
from mediators.redemption.models import Redemption
from tests.mediators.factories import (
    PDF_BYTES,
    SiteFactory,
    SubscriptionFactory,
    redeem_passes,
    redeemable_booklet,
    redeeming_site,
)
from tests.sponsors.factories import ProgrammeFactory


def paris(year, month, day=15, hour=12):
    return datetime.datetime(year, month, day, hour, tzinfo=PARIS)


def redemptions_in(place, when, count=1, booklet=None):
    """``count`` one-pass redemptions at ``place`` (see ``redeeming_site``), then dated ``when``
    (a datetime, or a list of them) as if redeemed then."""
    booklet = booklet or redeemable_booklet()
    passes = list(booklet.passes.filter(state="active").order_by("position")[:count])
    assert len(passes) == count
    whens = when if isinstance(when, list) else [when] * count
    redemptions = []
    for pass_, at in zip(passes, whens, strict=True):
        with transaction.atomic():
            redemption = redeem_passes(place, [pass_])
        Redemption.objects.filter(pk=redemption.pk).update(redeemed_at=at, scanned_at=at)
        redemptions.append(Redemption.objects.get(pk=redemption.pk))
    return redemptions


def last_month():
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


class StatementFactory(factory.django.DjangoModelFactory):
    """A statement as issued (no lines): enough for pages and the cross-organisation walk."""

    class Meta:
        model = Statement

    site = factory.SubFactory(SiteFactory, qualified=True)
    number = factory.Sequence(lambda n: f"REL-2020-{n + 1:06d}")
    year = 2020
    month = factory.LazyFunction(last_month)
    issued_at = factory.LazyFunction(timezone.now)
    site_name = factory.LazyAttribute(lambda o: o.site.organisation.name)
    site_siret = factory.LazyAttribute(lambda o: o.site.organisation.siret or "")
    redemption_count = 1
    pass_count = 1
    redemptions_cents = 1000
    adjustments_cents = 0
    subscription_netted_cents = 0
    total_cents = 1000
    pdf = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="releve.pdf"))


class AdjustmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Adjustment

    site = factory.SubFactory(SiteFactory, qualified=True)
    amount_cents = 500
    reason = "Oubli du relevé précédent"
    created_at = factory.LazyFunction(timezone.now)


class SubscriptionInvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionInvoice

    subscription = factory.SubFactory(SubscriptionFactory, site__qualified=True)
    site = factory.SelfAttribute("subscription.site")
    number = factory.Sequence(lambda n: f"ABO-2020-{n + 1:06d}")
    year = 2020
    subscription_year = factory.SelfAttribute("subscription.year")
    issued_at = factory.LazyFunction(timezone.now)
    site_name = factory.LazyAttribute(lambda o: o.site.organisation.name)
    amount_cents = 7700
    vat_rate_bp = 2000
    vat_cents = 1540
    total_cents = 9240
    pdf = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="facture.pdf"))


__all__ = ["paris", "redeeming_site", "redemptions_in", "StatementFactory", "AdjustmentFactory"]


# --- expiry and credit notes


class CreditNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditNote

    programme = factory.SubFactory(ProgrammeFactory)
    sponsor = factory.LazyAttribute(lambda o: o.programme.sponsor)
    year = 2099
    number = factory.Sequence(lambda n: f"AV-2099-{n + 1:06d}")
    issued_at = factory.LazyFunction(timezone.now)
    sponsor_name = factory.LazyAttribute(lambda o: o.sponsor.name)
    sponsor_siret = factory.LazyAttribute(lambda o: o.sponsor.siret)
    programme_name = factory.LazyAttribute(lambda o: o.programme.name)
    valid_until = factory.LazyAttribute(lambda o: o.programme.valid_until)
    expires_on = factory.LazyAttribute(lambda o: o.programme.valid_until)
    face_value_cents = 1000
    expired_pass_count = 3
    amount_cents = 3000
    pdf = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4 avoir de test", name="avoir.pdf"))


class ExpiryAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExpiryAlert

    programme = factory.SubFactory(ProgrammeFactory)
    days_before = 30
    valid_until = factory.LazyAttribute(lambda o: o.programme.valid_until)
    sent_at = factory.LazyFunction(timezone.now)

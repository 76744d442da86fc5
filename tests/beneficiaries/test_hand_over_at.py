"""An explicit time for the demo and the tests: a hand-over, the activation of its passes and the
stock movement that brought the booklet are dated when told, and a redemption after it is accepted."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from beneficiaries import services
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import JournalKind, PassJournal, StockMovement
from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
from tests.factories import OrganisationFactory
from tests.mediators.factories import redeem_passes, redeeming_site

pytestmark = pytest.mark.django_db


def test_a_hand_over_told_in_the_past_dates_the_hand_over_and_the_activation():
    prescriber = OrganisationFactory(prescriber=True)
    booklet = booklets_in_stock(prescriber, 1, departments=["33"], communes=[])[0]
    when = timezone.now() - datetime.timedelta(days=100)
    hand_over, created = services.hand_over(prescriber, booklet.serial, BENEFICIARY, at=when)
    assert created and hand_over.at == when
    journal = PassJournal.objects.filter(pass_ref__booklet=booklet)
    assert set(
        journal.filter(kind__in=[JournalKind.HANDED_OUT, JournalKind.ACTIVATED]).values_list("at", flat=True)
    ) == {when}
    passes = list(booklet.passes.order_by("position"))
    assert pass_selectors.hand_out_time([p.pk for p in passes]) == when
    # A redemption dated after the hand-over is accepted (its scan does not precede the hand-over).
    with transaction.atomic():
        redemption = redeem_passes(redeeming_site(), passes[:1], now=when + datetime.timedelta(days=3))
    assert redemption.redeemed_at == when + datetime.timedelta(days=3)


def test_without_a_time_it_is_now():
    prescriber = OrganisationFactory(prescriber=True)
    booklet = booklets_in_stock(prescriber, 1)[0]
    before = timezone.now()
    hand_over, _ = services.hand_over(prescriber, booklet.serial, BENEFICIARY)
    assert before <= hand_over.at <= timezone.now()


def test_an_allocation_told_in_the_past_dates_its_stock_movement():
    from passnum.passes import services as pass_services
    from tests.sponsors.factories import OrderFactory, ProgrammeFactory

    order = OrderFactory(programme=ProgrammeFactory(), booklet_count=2, status="paid")
    with transaction.atomic():
        pass_services.generate_booklets(order)
    when = timezone.now() - datetime.timedelta(days=200)
    booklets = pass_services.allocate_booklets(order, OrganisationFactory(prescriber=True), count=2, at=when)
    assert set(StockMovement.objects.filter(booklet__in=booklets).values_list("at", flat=True)) == {when}

"""Functions added to the pass instrument for the prescriber's counter."""

import pytest

from passnum.errors import DomainError
from passnum.passes import selectors, services
from passnum.passes.models import Booklet, JournalKind, PassJournal, PassState
from tests.beneficiaries.factories import booklets_in_stock
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_booklet_by_serial_tolerates_typing_and_refuses_garbage():
    booklet = booklets_in_stock(OrganisationFactory(prescriber=True), count=1)[0]
    assert selectors.booklet_by_serial(f" {booklet.serial.lower()[:3]}-{booklet.serial[3:]} ") == booklet
    assert selectors.booklet_by_serial("'; drop table --") is None
    assert selectors.booklet_by_serial("") is None


def test_stock_by_programme_and_summary():
    prescriber = OrganisationFactory(prescriber=True)
    first, second = booklets_in_stock(prescriber, count=2)
    services.hand_out_booklet(first)
    services.cancel_booklet(second)
    [row] = selectors.stock_by_programme(prescriber)
    assert (row["in_stock"], row["handed_out"], row["cancelled"]) == (0, 1, 1)
    summary = selectors.booklet_summary(first)
    assert summary["usable"] == 10 and summary["usable_cents"] == 10000 and summary["total"] == 10
    assert selectors.stock_by_programme(OrganisationFactory(prescriber=True)) == []
    assert not selectors.booklet_has_used_passes(first)
    assert selectors.pass_by_code(first.passes.first().code).booklet == first


def test_undo_hand_out_returns_to_stock_and_journals():
    booklet = booklets_in_stock(OrganisationFactory(prescriber=True), count=1)[0]
    with pytest.raises(DomainError, match="pas remis"):
        services.undo_hand_out(booklet)
    services.hand_out_booklet(booklet)
    assert len(services.undo_hand_out(booklet)) == 10
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.ALLOCATED
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.CREATED}
    undone = PassJournal.objects.filter(pass_ref__booklet=booklet, kind=JournalKind.HAND_OUT_UNDONE)
    assert undone.count() == 10
    services.hand_out_booklet(booklet)
    services.transition(
        booklet.passes.filter(position=2), JournalKind.REDEEMED, PassState.REDEEMED, from_states=[PassState.ACTIVE]
    )
    with pytest.raises(DomainError) as caught:
        services.undo_hand_out(booklet)
    assert caught.value.code == "booklet_pass_used"

"""Returning unused booklets from a prescriber's stock to the operator (``return_booklets``)."""

import threading

import pytest
from django.db import connection, transaction

from passnum.audit.models import AuditLog
from passnum.errors import DomainError
from passnum.passes import services
from passnum.passes.models import Booklet, PassJournal, PassState, StockMovement
from sponsors.models import Order
from tests.beneficiaries.factories import booklets_in_stock
from tests.factories import OrganisationFactory, UserFactory
from tests.sponsors.factories import OrderFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return OrganisationFactory(operator=True)


@pytest.fixture
def prescriber():
    return OrganisationFactory(prescriber=True)


def refused(code, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        services.return_booklets(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


def states(booklets):
    return {b.serial: (b.state, b.holder_id) for b in Booklet.objects.filter(pk__in=[b.pk for b in booklets])}


def test_return_by_serials_goes_back_to_the_operator_stock(operator, prescriber):
    booklets = booklets_in_stock(prescriber, count=4)
    user = UserFactory()
    journal_before = PassJournal.objects.count()
    returned, created = services.return_booklets(
        prescriber, f"{booklets[0].serial.lower()}, {booklets[2].serial}\n{booklets[0].serial}", actor=user
    )
    assert created and {b.serial for b in returned} == {booklets[0].serial, booklets[2].serial}
    after = states(booklets)
    assert after[booklets[0].serial] == after[booklets[2].serial] == (Booklet.State.CREATED, None)
    assert after[booklets[1].serial] == (Booklet.State.ALLOCATED, prescriber.pk)
    movements = StockMovement.objects.filter(from_organisation=prescriber)
    assert movements.count() == 2
    assert {(m.to_organisation_id, m.actor_id) for m in movements} == {(operator.pk, user.pk)}
    assert len({m.batch for m in movements}) == 1
    # The passes never left "created": no journal entry, no value moves.
    assert set(returned[0].passes.values_list("state", flat=True)) == {PassState.CREATED}
    assert PassJournal.objects.count() == journal_before
    entry = AuditLog.objects.get(action="passes.booklets.returned")
    assert entry.organisation_id == prescriber.pk and entry.actor == user
    assert entry.after["count"] == 2 and entry.after["to_organisation"] == operator.pk
    assert entry.after["serials"] == [booklets[0].serial, booklets[2].serial]


def test_return_by_range_and_reallocation_by_the_sponsor(operator, prescriber):
    booklets = booklets_in_stock(prescriber, count=5)
    returned, _ = services.return_booklets(prescriber, first_serial=booklets[1].serial, last_serial=booklets[3].serial)
    assert [b.serial for b in returned] == [b.serial for b in booklets[1:4]]
    assert services.serial_ranges(returned) == [f"{booklets[1].serial} à {booklets[3].serial}"]
    # Back in the operator's stock: the sponsor can allocate them to another prescriber.
    other = OrganisationFactory(prescriber=True)
    again = services.allocate_booklets(booklets[0].order, other, count=3)
    assert {b.serial for b in again} == {b.serial for b in returned}


def test_one_audit_entry_per_programme(operator, prescriber):
    first = booklets_in_stock(prescriber, count=2)
    second = booklets_in_stock(prescriber, count=1)
    returned, _ = services.return_booklets(prescriber, [b.serial for b in first + second])
    assert len(returned) == 3
    entries = AuditLog.objects.filter(action="passes.booklets.returned")
    assert sorted(e.after["count"] for e in entries) == [1, 2]
    assert {e.target_id for e in entries} == {str(first[0].programme_id), str(second[0].programme_id)}


def test_refusals_are_all_or_nothing(operator, prescriber):
    booklets = booklets_in_stock(prescriber, count=4)
    other = booklets_in_stock(OrganisationFactory(prescriber=True), count=1)[0]
    services.hand_out_booklet(booklets[1])
    services.cancel_booklet(booklets[2])
    before = states(booklets + [other])

    error = refused("booklet_unknown", prescriber, [booklets[0].serial, "ZZZ999999", "n'importe quoi"])
    assert error.status == 404 and "ZZZ999999" in error.message and "aucun carnet n'a été rendu" in error.message
    error = refused("booklet_not_in_stock", prescriber, [booklets[0].serial, other.serial])
    assert error.status == 404 and other.serial in error.message
    error = refused("booklet_already_handed_out", prescriber, [booklets[0].serial, booklets[1].serial])
    assert error.status == 409 and "déjà été remis" in error.message
    error = refused("booklet_cancelled", prescriber, [booklets[0].serial, booklets[2].serial])
    assert "perdu ou annulé" in error.message
    # Every problem is named at once, the code is the first one's.
    error = refused("booklet_already_handed_out", prescriber, " ".join(b.serial for b in booklets))
    assert booklets[1].serial in error.message and booklets[2].serial in error.message
    # A range with a booklet that cannot go back is refused too.
    refused("booklet_already_handed_out", prescriber, first_serial=booklets[0].serial, last_serial=booklets[3].serial)

    assert states(booklets + [other]) == before
    assert not StockMovement.objects.filter(from_organisation__isnull=False).exists()
    assert not AuditLog.objects.filter(action="passes.booklets.returned").exists()


def test_returned_booklet_cannot_be_returned_twice_nor_handed_out(operator, prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    services.return_booklets(prescriber, [booklet.serial])
    refused("booklet_not_in_stock", prescriber, [booklet.serial])
    with pytest.raises(DomainError):
        services.hand_out_booklet(booklet)


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({}, "return_empty", "serials"),
        ({"serials": " , ;\n"}, "return_empty", "serials"),
        ({"first_serial": "GIR000001"}, "return_invalid", "first_serial"),
        ({"serials": "X", "first_serial": "A", "last_serial": "B"}, "return_invalid", "serials"),
        ({"first_serial": "ZZZ000001", "last_serial": "ZZZ000002"}, "booklet_unknown", "first_serial"),
    ],
)
def test_malformed_requests(operator, prescriber, kwargs, code, field):
    assert refused(code, prescriber, **kwargs).field == field


def test_range_must_be_ordered_and_of_one_programme(operator, prescriber):
    first = booklets_in_stock(prescriber, count=2)
    second = booklets_in_stock(prescriber, count=1)
    error = refused("return_invalid", prescriber, first_serial=first[1].serial, last_serial=first[0].serial)
    assert "précéder" in error.message
    error = refused("return_invalid", prescriber, first_serial=first[0].serial, last_serial=second[0].serial)
    assert "même programme" in error.message


def test_too_many_booklets(operator, prescriber, monkeypatch):
    booklets = booklets_in_stock(prescriber, count=3)
    monkeypatch.setattr(services, "MAX_ALLOCATION", 2)
    refused("return_too_many", prescriber, [b.serial for b in booklets])
    refused("return_too_many", prescriber, first_serial=booklets[0].serial, last_serial=booklets[2].serial)


def test_only_a_prescriber_and_only_with_an_operator(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    assert refused("operator_missing", prescriber, [booklet.serial]).status == 503
    OrganisationFactory(operator=True)
    assert refused("not_a_prescriber", OrganisationFactory(sponsor=True), [booklet.serial]).status == 403
    assert refused("not_a_prescriber", None, [booklet.serial]).status == 403


def test_booklet_of_an_unpaid_order_in_stock_can_be_returned(operator, prescriber):
    booklet = booklets_in_stock(prescriber, count=1, paid=False)[0]
    services.return_booklets(prescriber, [booklet.serial])
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.CREATED and booklet.holder is None


def test_check_return_writes_nothing(operator, prescriber):
    booklets = booklets_in_stock(prescriber, count=2)
    assert [b.serial for b in services.check_return(prescriber, [b.serial for b in booklets])] == [
        b.serial for b in booklets
    ]
    assert states(booklets) == {b.serial: (Booklet.State.ALLOCATED, prescriber.pk) for b in booklets}
    with pytest.raises(DomainError) as caught:
        services.check_return(prescriber, ["ZZZ000009"])
    assert caught.value.code == "booklet_unknown"


def test_same_batch_applies_once(operator, prescriber):
    booklets = booklets_in_stock(prescriber, count=2)
    serials = [b.serial for b in booklets]
    first, created = services.return_booklets(prescriber, serials, batch="a" * 32)
    again, created_again = services.return_booklets(prescriber, serials, batch="a" * 32)
    assert created and not created_again
    assert {b.pk for b in again} == {b.pk for b in first}
    assert StockMovement.objects.filter(from_organisation=prescriber).count() == 2
    assert AuditLog.objects.filter(action="passes.booklets.returned").count() == 1
    # Another prescriber cannot replay someone else's batch.
    stranger = OrganisationFactory(prescriber=True)
    refused("booklet_not_in_stock", stranger, serials, batch="a" * 32)


def test_serial_ranges():
    rows = [{"programme_id": 1, "number": n, "serial": f"AB{n:06d}"} for n in (1, 2, 3, 5, 7, 8)] + [
        {"programme_id": 2, "number": 4, "serial": "CD000004"}
    ]
    assert services.serial_ranges(rows) == [
        "AB000001 à AB000003",
        "AB000005",
        "AB000007 à AB000008",
        "CD000004",
    ]
    assert services.serial_ranges([]) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["return", "hand_out"])
def test_return_and_hand_out_racing_never_both_apply(first):
    """Proves the booklet row lock (``SELECT … FOR UPDATE`` in ``return_booklets`` and in
    ``hand_out_booklet``): the first operation holds it until its transaction ends (``pg_sleep``
    keeps the transaction open) while the second starts; the second must wait, then find the
    booklet gone — without the lock it would read the booklet still in stock and both would apply."""
    OrganisationFactory(operator=True)
    prescriber = OrganisationFactory(prescriber=True)
    order = OrderFactory(programme=ProgrammeFactory(), booklet_count=1, status=Order.Status.PAID)
    with transaction.atomic():
        services.generate_booklets(order)
    booklet = services.allocate_booklets(order, prescriber, count=1)[0]
    actions = {
        "return": lambda: services.return_booklets(prescriber, [booklet.serial]),
        "hand_out": lambda: services.hand_out_booklet(booklet),
    }
    second = "hand_out" if first == "return" else "return"
    applied, outcomes = threading.Event(), {}

    def run_first():
        try:
            with transaction.atomic():
                actions[first]()
                applied.set()  # done, not committed: the second operation starts now
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.5)")
            outcomes[first] = "ok"
        finally:
            applied.set()
            connection.close()

    def run_second():
        try:
            applied.wait()
            actions[second]()
            outcomes[second] = "ok"
        except DomainError as error:
            outcomes[second] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes[first] == "ok"
    assert outcomes[second] != "ok", outcomes
    booklet.refresh_from_db()
    moved = StockMovement.objects.filter(booklet=booklet, from_organisation=prescriber).exists()
    expected = (Booklet.State.CREATED, True) if first == "return" else (Booklet.State.HANDED_OUT, False)
    assert (booklet.state, moved) == expected

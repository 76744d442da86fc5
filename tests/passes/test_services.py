import pytest
from django.db import ProgrammingError, transaction
from django.utils import timezone

from passnum.errors import DomainError
from passnum.passes import services
from passnum.passes.models import Booklet, JournalKind, Pass, PassJournal, PassState, StockMovement
from sponsors import services as sponsor_services
from tests.factories import OrganisationFactory
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def invoiced_order(booklets=3, **programme):
    order = sponsor_services.create_quote(ProgrammeFactory(**programme), booklets)
    invoice = sponsor_services.confirm_order(order)
    order.refresh_from_db()
    return order, invoice


def paid_order(booklets=3, **programme):
    order, invoice = invoiced_order(booklets, **programme)
    sponsor_services.record_payment(invoice, paid_on=timezone.localdate(), reference="VIR-1")
    order.refresh_from_db()
    return order


def test_the_journal_refuses_update_and_delete_in_the_database():
    order = paid_order(1)
    entry = PassJournal.objects.first()
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        PassJournal.objects.filter(pk=entry.pk).update(kind=JournalKind.REDEEMED)
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        PassJournal.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.kind == JournalKind.CREATED
    assert PassJournal.objects.filter(pass_ref__booklet__order=order).count() == 10


def test_codes_are_unique_in_the_database():
    order = paid_order(1)
    existing = Pass.objects.filter(booklet__order=order).first()
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Pass.objects.create(
            booklet=existing.booklet,
            programme=existing.programme,
            position=99,
            code=existing.code,
            face_value_cents=1000,
            valid_until=existing.valid_until,
            expires_on=existing.expires_on,
        )


def test_passes_of_an_unpaid_order_cannot_be_activated():
    order, _ = invoiced_order(1)
    booklet = order.booklets.get()
    with pytest.raises(DomainError) as caught:
        services.activate_booklet_passes(booklet)
    assert caught.value.code == "order_not_paid"
    with pytest.raises(DomainError):
        services.hand_out_booklet(booklet)
    assert not Pass.objects.exclude(state=PassState.CREATED).exists()


def test_hand_out_activates_and_journals_in_step():
    order = paid_order(2)
    prescriber = OrganisationFactory(prescriber=True)
    booklet = services.allocate_booklets(order, prescriber, count=1)[0]
    with pytest.raises(DomainError, match="pas en stock"):
        services.hand_out_booklet(order.booklets.exclude(pk=booklet.pk).get())
    services.hand_out_booklet(booklet)
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.HANDED_OUT
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.ACTIVE}
    kinds = list(PassJournal.objects.filter(pass_ref__booklet=booklet).values_list("kind", flat=True))
    assert kinds.count(JournalKind.HANDED_OUT) == 10 and kinds.count(JournalKind.ACTIVATED) == 10


def test_cancel_booklet():
    order = paid_order(1)
    booklet = order.booklets.get()
    Pass.objects.filter(pk=booklet.passes.first().pk).update(state=PassState.REDEEMED)
    assert len(services.cancel_booklet(booklet, reason="perdu")) == 9
    assert booklet.passes.filter(state=PassState.REDEEMED).count() == 1
    with pytest.raises(DomainError, match="déjà annulé"):
        services.cancel_booklet(booklet)


def test_allocation_by_count_and_by_serial_range():
    order = paid_order(6, prefix="ALC")
    prescriber = OrganisationFactory(prescriber=True)
    first = services.allocate_booklets(order, prescriber, count=2)
    assert [b.serial for b in first] == ["ALC000001", "ALC000002"]
    second = services.allocate_booklets(order, prescriber, first_serial="alc000004", last_serial="ALC000005")
    assert [b.serial for b in second] == ["ALC000004", "ALC000005"]
    assert StockMovement.objects.filter(to_organisation=prescriber).count() == 4
    assert Booklet.objects.filter(holder=prescriber, state=Booklet.State.ALLOCATED).count() == 4
    # Count takes the next ones still in stock.
    assert [b.serial for b in services.allocate_booklets(order, prescriber, count=2)] == ["ALC000003", "ALC000006"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"count": 0}, "entre 1 et"),
        ({"count": 99}, "Il ne reste que 3"),
        ({"first_serial": "ALC000003", "last_serial": "ALC000001"}, "précéder"),
        ({"first_serial": "ALC000001", "last_serial": "ZZZ000001"}, "ne fait pas partie"),
        ({"first_serial": "ALC000001"}, "premier et le dernier"),
    ],
)
def test_bad_allocations_write_nothing(kwargs, words):
    order = paid_order(3, prefix="ALC")
    with pytest.raises(DomainError, match=words):
        services.allocate_booklets(order, OrganisationFactory(prescriber=True), **kwargs)
    assert not StockMovement.objects.exists()


def test_allocation_refusals():
    order, _ = invoiced_order(2)
    with pytest.raises(DomainError, match="pas encore payée"):
        services.allocate_booklets(order, OrganisationFactory(prescriber=True), count=1)
    order = paid_order(2)
    with pytest.raises(DomainError, match="prescripteur"):
        services.allocate_booklets(order, OrganisationFactory(site=True), count=1)
    services.allocate_booklets(order, OrganisationFactory(prescriber=True), count=1)
    with pytest.raises(DomainError, match="déjà répartis"):
        services.allocate_booklets(
            order,
            OrganisationFactory(prescriber=True),
            first_serial=order.booklets.first().serial,
            last_serial=order.booklets.last().serial,
        )

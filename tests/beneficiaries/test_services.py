import threading
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from beneficiaries import services
from beneficiaries.models import Beneficiary, HandOver, LossDeclaration
from passnum.audit.models import AuditLog
from passnum.errors import DomainError
from passnum.passes import services as pass_services
from passnum.passes.models import Booklet, JournalKind, PassJournal, PassState
from sponsors.models import Programme
from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
from tests.factories import OrganisationFactory, UserFactory
from tests.locks import BLOCK_DEADLINE_S, Session, wait_until_blocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def prescriber():
    return OrganisationFactory(prescriber=True)


def refused(code, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        services.hand_over(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_hand_over_activates_passes_and_records_only_what_reporting_needs(prescriber):
    booklet = booklets_in_stock(prescriber)[0]
    user = UserFactory()
    handover, created = services.hand_over(prescriber, booklet.serial.lower(), BENEFICIARY, user=user)
    assert created
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.HANDED_OUT
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.ACTIVE}
    beneficiary = handover.beneficiary
    assert (beneficiary.age_band, beneficiary.commune, beneficiary.audiences) == ("60-74", "33063", ["seniors"])
    assert beneficiary.email == beneficiary.phone == beneficiary.name == ""
    assert handover.user == user and handover.organisation == prescriber and not handover.is_exception
    assert PassJournal.objects.filter(pass_ref__booklet=booklet, kind=JournalKind.HANDED_OUT).count() == 10
    assert AuditLog.objects.filter(action="beneficiaries.hand_over", target_id=str(handover.pk)).exists()


def test_unknown_serial_and_garbage_are_refused(prescriber):
    booklets_in_stock(prescriber)
    error = refused("booklet_unknown", prescriber, "ZZZ999999", BENEFICIARY)
    assert error.status == 404 and "Aucun carnet" in error.message
    refused("booklet_unknown", prescriber, "n'importe quoi ' ; --", BENEFICIARY)
    refused("booklet_unknown", prescriber, "", BENEFICIARY)


def test_booklet_of_another_prescriber_is_refused(prescriber):
    other = booklets_in_stock(OrganisationFactory(prescriber=True))[0]
    error = refused("booklet_not_in_stock", prescriber, other.serial, BENEFICIARY)
    assert error.status == 404
    assert not HandOver.objects.exists()


def test_already_handed_out_is_refused_with_when(prescriber):
    booklet = booklets_in_stock(prescriber)[0]
    services.hand_over(prescriber, booklet.serial, BENEFICIARY)
    error = refused("booklet_already_handed_out", prescriber, booklet.serial, BENEFICIARY)
    assert "déjà été remis le" in error.message and error.status == 409
    assert HandOver.objects.count() == 1 and Beneficiary.objects.count() == 1


def test_lost_booklet_is_refused(prescriber):
    booklet = booklets_in_stock(prescriber)[0]
    services.declare_lost(prescriber, booklet.serial)
    refused("booklet_cancelled", prescriber, booklet.serial, BENEFICIARY)


def test_booklet_of_an_unpaid_order_is_refused(prescriber):
    booklet = booklets_in_stock(prescriber, paid=False)[0]
    error = refused("order_not_paid", prescriber, booklet.serial, BENEFICIARY)
    assert "pas encore payée" in error.message
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.CREATED}


def test_booklet_of_an_expired_programme_is_refused(prescriber):
    booklet = booklets_in_stock(prescriber, valid_until=timezone.localdate() - timedelta(days=1))[0]
    error = refused("programme_expired", prescriber, booklet.serial, BENEFICIARY)
    assert "a pris fin" in error.message


@pytest.mark.parametrize("commune", ["3306", "330633", "ABCDE", "2C123", "", "33 063x"])
def test_commune_of_the_wrong_shape_is_refused(prescriber, commune):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    error = refused("beneficiary_invalid", prescriber, booklet.serial, {**BENEFICIARY, "commune": commune})
    assert error.field == "commune" and "n'existe pas" in error.message
    assert not Beneficiary.objects.exists()


def test_corsican_commune_is_accepted_in_its_territory(prescriber):
    booklet = booklets_in_stock(prescriber, count=1, departments=["2A"], communes=[])[0]
    handover, _ = services.hand_over(prescriber, booklet.serial, {**BENEFICIARY, "commune": "2a004"})
    assert handover.beneficiary.commune == "2A004"


def test_consent_with_no_contact_is_refused_and_contact_without_consent_too(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    error = refused("beneficiary_invalid", prescriber, booklet.serial, {**BENEFICIARY, "contact_consent": True})
    assert error.field == "email" and "e-mail ou son téléphone" in error.message
    error = refused("beneficiary_invalid", prescriber, booklet.serial, {**BENEFICIARY, "email": "a@exemple.fr"})
    assert error.field == "contact_consent"
    refused(
        "beneficiary_invalid",
        prescriber,
        booklet.serial,
        {**BENEFICIARY, "contact_consent": True, "email": "pas-un-mail"},
    )
    handover, _ = services.hand_over(
        prescriber, booklet.serial, {**BENEFICIARY, "contact_consent": True, "phone": "06 01 02 03 04"}
    )
    assert handover.beneficiary.phone == "0601020304"


def test_name_is_refused_when_the_programme_does_not_require_it(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    refused("beneficiary_invalid", prescriber, booklet.serial, {**BENEFICIARY, "name": "Camille", "name_consent": True})


def test_audience_not_of_the_programme_is_refused(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    refused("beneficiary_invalid", prescriber, booklet.serial, {**BENEFICIARY, "audiences": ["Martiens"]})


def test_out_of_territory_is_refused_without_exceptions(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    error = refused("not_eligible", prescriber, booklet.serial, {**BENEFICIARY, "commune": "75056"})
    assert "hors du territoire" in error.message and "pas de dérogation" in error.message
    error = refused("not_eligible", prescriber, booklet.serial, {**BENEFICIARY, "audiences": []})
    assert "aucun des publics" in error.message


def test_exception_needs_a_reason_and_is_recorded(prescriber):
    booklet = booklets_in_stock(prescriber, count=1, allows_exceptions=True)[0]
    data = {**BENEFICIARY, "commune": "75056", "audiences": []}
    refused("exception_reason_required", prescriber, booklet.serial, data)
    handover, _ = services.hand_over(prescriber, booklet.serial, data, exception_reason="Hébergée à Bordeaux")
    assert handover.is_exception and handover.exception_reason == "Hébergée à Bordeaux"
    assert len(handover.exception_warnings) == 2


def test_the_same_submission_applies_once(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    first, created = services.hand_over(prescriber, booklet.serial, BENEFICIARY, submission_key="k1")
    again, created_again = services.hand_over(prescriber, booklet.serial, BENEFICIARY, submission_key="k1")
    assert created and not created_again and first.pk == again.pk
    assert HandOver.objects.count() == 1
    assert PassJournal.objects.filter(pass_ref__booklet=booklet, kind=JournalKind.ACTIVATED).count() == 10


def test_undo_within_15_minutes_returns_the_booklet_to_stock(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    handover, _ = services.hand_over(
        prescriber, booklet.serial, {**BENEFICIARY, "contact_consent": True, "email": "a@exemple.fr"}
    )
    services.undo_hand_over(handover)
    booklet.refresh_from_db()
    handover.refresh_from_db()
    assert booklet.state == Booklet.State.ALLOCATED and handover.undone_at is not None
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.CREATED}
    assert handover.beneficiary.email == "" and handover.beneficiary.purged_at is not None
    with pytest.raises(DomainError, match="déjà annulée"):
        services.undo_hand_over(handover)
    # The booklet can be handed over again (the partial unique index counts live hand-overs only).
    second, _ = services.hand_over(prescriber, booklet.serial, BENEFICIARY)
    assert second.pk != handover.pk


def test_undo_after_15_minutes_or_after_use_is_refused(prescriber):
    first, second = booklets_in_stock(prescriber, count=2)
    handover, _ = services.hand_over(prescriber, first.serial, BENEFICIARY)
    HandOver.objects.filter(pk=handover.pk).update(at=timezone.now() - timedelta(minutes=16))
    with pytest.raises(DomainError) as caught:
        services.undo_hand_over(handover)
    assert caught.value.code == "undo_window_over"
    handover, _ = services.hand_over(prescriber, second.serial, BENEFICIARY)
    pass_services.transition(
        second.passes.filter(position=1), JournalKind.REDEEMED, PassState.REDEEMED, from_states=[PassState.ACTIVE]
    )
    with pytest.raises(DomainError) as caught:
        services.undo_hand_over(handover)
    assert caught.value.code == "booklet_pass_used"
    assert HandOver.objects.get(pk=handover.pk).undone_at is None


def test_lost_booklet_cancels_unused_passes_and_gets_a_replacement(prescriber):
    lost, replacement = booklets_in_stock(prescriber, count=2)
    handover, _ = services.hand_over(prescriber, lost.serial, BENEFICIARY)
    pass_services.transition(
        lost.passes.filter(position=1), JournalKind.REDEEMED, PassState.REDEEMED, from_states=[PassState.ACTIVE]
    )
    declaration = services.declare_lost(prescriber, lost.serial, kind="stolen")
    assert declaration.hand_over == handover
    assert declaration.cancelled_passes == 9 and declaration.cancelled_value_cents == 9000
    states = list(lost.passes.order_by("position").values_list("state", flat=True))
    assert states == [PassState.REDEEMED] + [PassState.CANCELLED] * 9
    assert PassJournal.objects.filter(pass_ref__booklet=lost, kind=JournalKind.CANCELLED).count() == 9
    with pytest.raises(DomainError, match="déjà déclaré"):
        services.declare_lost(prescriber, lost.serial)
    new, _ = services.hand_over(prescriber, replacement.serial, replaces=handover)
    assert new.beneficiary == handover.beneficiary and new.replaces == handover
    assert HandOver.objects.filter(beneficiary=handover.beneficiary).count() == 2


def test_replacement_only_for_a_lost_booklet_of_the_same_prescriber(prescriber):
    first, second, third = booklets_in_stock(prescriber, count=3)
    handover, _ = services.hand_over(prescriber, first.serial, BENEFICIARY)
    refused("replacement_refused", prescriber, second.serial, replaces=handover)
    services.declare_lost(prescriber, first.serial)
    services.hand_over(prescriber, second.serial, replaces=handover)
    refused("replacement_refused", prescriber, third.serial, replaces=handover)


def test_loss_of_another_prescribers_booklet_is_refused(prescriber):
    other = booklets_in_stock(OrganisationFactory(prescriber=True), count=1)[0]
    with pytest.raises(DomainError) as caught:
        services.declare_lost(prescriber, other.serial)
    assert caught.value.code == "booklet_not_in_stock"
    assert not LossDeclaration.objects.exists()


def test_only_prescribers_hand_over():
    refused("not_a_prescriber", OrganisationFactory(site=True), "GIR000001", BENEFICIARY)


@pytest.mark.django_db(transaction=True)
def test_double_submission_in_parallel_applies_once():
    """Proves the partial unique index of one live hand-over per booklet (the booklet row lock taken
    first by ``hand_over`` only makes the loser wait instead of failing on the index): the same form
    sent twice at once gives one hand-over (the second finds it by its submission key), two
    different forms give one hand-over and one refusal."""
    prescriber = OrganisationFactory(prescriber=True)
    booklet = booklets_in_stock(prescriber, count=1)[0]
    barrier = threading.Barrier(2)
    results = []

    def submit(key):
        try:
            barrier.wait()
            results.append(services.hand_over(prescriber, booklet.serial, BENEFICIARY, submission_key=key))
        except DomainError as error:
            results.append(error.code)
        finally:
            connection.close()

    for keys in (("same", "same"), ("a", "b")):
        if keys == ("a", "b"):
            pass_services.undo_hand_out(booklet)
            HandOver.objects.update(undone_at=timezone.now())
        results.clear()
        threads = [threading.Thread(target=submit, args=(key,)) for key in keys]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert HandOver.objects.live().count() == 1, results
        if keys == ("same", "same"):
            assert {r[0].pk for r in results} == {HandOver.objects.live().get().pk}
        else:
            assert "booklet_already_handed_out" in results
    assert PassJournal.objects.filter(pass_ref__booklet=booklet, kind=JournalKind.ACTIVATED).count() == 20


@pytest.mark.django_db(transaction=True)
def test_a_hand_over_waits_for_the_booklet_before_anything_else_and_tells_why_it_is_refused():
    """Proves the booklet row lock ``hand_over`` takes first (``booklet_by_serial(…,
    for_update=True)``), which neither the unique index nor the lock of ``hand_out_booklet`` gives:
    while the prescriber's return of the booklet to the operator is under way (its transaction
    open, the booklet row locked), a hand-over of that booklet waits before reading or writing
    anything, then reads the booklet as returned and says so (« not in your stock »). Without
    that first lock it reads the booklet still in stock, writes the beneficiary and the hand-over,
    waits only at the activation, and is refused with the generic « cannot be handed out »."""
    OrganisationFactory(operator=True)
    prescriber = OrganisationFactory(prescriber=True)
    booklet = booklets_in_stock(prescriber, count=1)[0]
    returning, handing = sessions = [Session(), Session()]  # closed in this order: the return first
    returned, release = threading.Event(), threading.Event()

    def return_and_hold():
        with transaction.atomic():
            pass_services.return_booklets(prescriber, [booklet.serial])
            returned.set()
            release.wait(BLOCK_DEADLINE_S)  # the booklet row stays locked until the test lets go

    def hand_over():
        try:
            return services.hand_over(prescriber, booklet.serial, BENEFICIARY, submission_key="formulaire")
        except DomainError as refusal:
            return refusal

    try:
        return_done = returning.submit(return_and_hold)
        assert returned.wait(BLOCK_DEADLINE_S)
        answer = handing.submit(hand_over)
        wait_until_blocked(handing.pid, by=returning.pid, what="la remise")
        release.set()
        return_done.result()
        refusal = answer.result()
    finally:
        release.set()
        for session in sessions:
            session.close()

    assert isinstance(refusal, DomainError), refusal
    assert refusal.code == "booklet_not_in_stock", refusal.message
    assert not HandOver.objects.exists() and not Beneficiary.objects.exists()
    booklet.refresh_from_db()
    assert (booklet.state, booklet.holder_id) == (Booklet.State.CREATED, None)


def test_purge_erases_personal_fields_after_retention_and_keeps_aggregates(settings, prescriber):
    settings.PASSNUM_PERSONAL_DATA_RETENTION_DAYS = 30
    old = booklets_in_stock(prescriber, count=1, valid_until=date(2020, 12, 31))[0]
    current = booklets_in_stock(prescriber, count=1)[0]
    contact = {**BENEFICIARY, "contact_consent": True, "email": "a@exemple.fr"}
    # The old programme's booklet was handed out while it ran.

    Programme.objects.filter(pk=old.programme_id).update(valid_until=date(2099, 1, 1))
    old_handover, _ = services.hand_over(prescriber, old.serial, contact)
    Programme.objects.filter(pk=old.programme_id).update(valid_until=date(2020, 12, 31))
    current_handover, _ = services.hand_over(prescriber, current.serial, contact)

    assert services.purge_personal_data(today=date(2021, 1, 15)) == 0  # within grace + retention
    assert services.purge_personal_data() == 1
    assert services.purge_personal_data() == 0  # idempotent
    purged = Beneficiary.objects.get(pk=old_handover.beneficiary_id)
    assert purged.email == "" and not purged.contact_consent and purged.purged_at is not None
    assert (purged.age_band, purged.commune, purged.audiences) == ("60-74", "33063", ["seniors"])
    assert Beneficiary.objects.get(pk=current_handover.beneficiary_id).email == "a@exemple.fr"
    assert AuditLog.objects.filter(action="beneficiaries.personal_data.purged").count() == 1


def test_purge_command_and_task(prescriber):
    from django.core.management import call_command

    from beneficiaries.tasks import purge_personal_data

    booklet = booklets_in_stock(prescriber, count=1)[0]
    handover, _ = services.hand_over(
        prescriber, booklet.serial, {**BENEFICIARY, "contact_consent": True, "phone": "0601020304"}
    )
    assert purge_personal_data.delay().get() == 0
    from io import StringIO

    out = StringIO()
    call_command("purge_personal_data", "--days", "-100000", stdout=out)
    assert "1 bénéficiaire(s)" in out.getvalue()
    assert Beneficiary.objects.get(pk=handover.beneficiary_id).phone == ""

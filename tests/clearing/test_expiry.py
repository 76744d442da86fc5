"""The nightly expiry: passes still worth money expire 7 days after their last day
(the upload window of offline scans), with their journal, once, even with two runs at once."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from clearing import services, tasks
from clearing.models import CreditNote
from mediators.redemption import services as redemption_services
from passnum.passes.models import JournalKind, Pass, PassJournal, PassState
from tests.clearing.helpers import programme_in_every_state, states
from tests.mediators.factories import redeem_passes

pytestmark = pytest.mark.django_db


def at_noon(day):
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 12))


def test_nothing_expires_during_the_upload_window():
    world = programme_in_every_state()
    before = states(world.programme)
    with time_machine.travel(at_noon(world.expiry_day - timedelta(days=1)), tick=False):
        result = tasks.expire_passes()
    assert result["expired"] == 0 and result["credit_notes"] == []
    assert states(world.programme) == before
    assert not PassJournal.objects.filter(kind=JournalKind.EXPIRED).exists()


def test_passes_worth_money_expire_the_day_after_the_window_with_their_journal():
    world = programme_in_every_state()
    with time_machine.travel(at_noon(world.expiry_day), tick=False):
        result = tasks.expire_passes()
    counts = states(world.programme)
    # 8 active passes of the handed-out booklet and the paid booklet never handed out (10).
    assert counts[PassState.EXPIRED] == 18
    assert counts[PassState.REDEEMED] == 2 and counts[PassState.CANCELLED] == 10
    # The unpaid order's passes were never money: left created, reported apart.
    assert counts[PassState.CREATED] == 10
    assert set(world.unpaid.passes.values_list("state", flat=True)) == {PassState.CREATED}
    assert result == {"expired": 18, "credit_notes": [CreditNote.objects.get().number], "unpaid": 10}
    journal = PassJournal.objects.filter(kind=JournalKind.EXPIRED)
    assert journal.count() == 18
    assert set(journal.values_list("pass_ref__state", flat=True)) == {PassState.EXPIRED}
    assert journal.first().details == {"expires_on": world.expires_on.isoformat()}


def test_the_report_separates_unpaid_passes():
    world = programme_in_every_state(redeem=0)
    report = services.expire_passes(today=world.expiry_day)
    assert report.expired == {world.programme.pk: (20, 20000)}
    assert report.unpaid == {world.programme.pk: (10, 10000)}
    assert report.not_credited == {}


def test_running_again_expires_and_credits_nothing_more():
    world = programme_in_every_state()
    first = services.expire_passes(today=world.expiry_day)
    second = services.expire_passes(today=world.expiry_day + timedelta(days=1))
    assert first.expired and second.expired == {} and second.credit_notes == []
    assert PassJournal.objects.filter(kind=JournalKind.EXPIRED).count() == 18
    assert CreditNote.objects.count() == 1


def test_a_late_offline_scan_is_refused_once_the_window_closed_even_before_the_nightly_run():
    world = programme_in_every_state(redeem=0)
    pass_ = world.booklet.passes.order_by("position").first()
    scanned_at = at_noon(world.expires_on)
    with (
        time_machine.travel(at_noon(world.expiry_day), tick=False),
        pytest.raises(redemption_services.RedemptionRefused) as refused,
    ):
        redeem_passes(world.place, [pass_], scanned_at=scanned_at)
    assert refused.value.code == "pass_expired"
    with time_machine.travel(at_noon(world.expiry_day - timedelta(days=1)), tick=False):
        redemption = redeem_passes(world.place, [pass_], scanned_at=scanned_at)
    assert redemption.pass_count == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_expire_each_pass_once():
    world = programme_in_every_state()
    barrier, errors, reports = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait()
            reports.append(services.expire_passes(today=world.expiry_day))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(sum(n for n, _ in r.expired.values()) for r in reports) == [0, 18]
    expired_ids = list(Pass.objects.filter(state=PassState.EXPIRED).values_list("pk", flat=True))
    assert len(expired_ids) == 18
    per_pass = PassJournal.objects.filter(kind=JournalKind.EXPIRED).values_list("pass_ref_id", flat=True)
    assert sorted(per_pass) == sorted(expired_ids)
    assert CreditNote.objects.count() == 1

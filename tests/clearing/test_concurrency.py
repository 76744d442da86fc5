"""Races of the close, on real PostgreSQL connections (one per thread): two closes of one month
at once, and a close racing the undos of the same redemptions."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from clearing import services
from clearing.models import Statement, StatementLine
from mediators.redemption import services as mediators_services
from mediators.redemption.models import Redemption
from tests.clearing.factories import paris, redeeming_site, redemptions_in

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*jobs):
    """Runs each callable in its own thread, released together; returns results or exceptions."""
    results, barrier = [None] * len(jobs), threading.Barrier(len(jobs))

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # noqa: BLE001 — the test inspects what each thread met
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_closes_of_one_month_at_once_issue_one_statement_per_site():
    places = [redeeming_site() for _ in range(3)]
    for place in places:
        redemptions_in(place, paris(2026, 10, 5), count=2)
    now = paris(2026, 11, 1, 2)

    results = run_together(*[lambda: services.close_month(month="2026-10", now=now)] * 2)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(len(r.numbers) for r in results) == 3  # each site closed by one of the two
    assert Statement.objects.count() == 3
    assert set(Statement.objects.values_list("site_id", flat=True)) == {p.site.pk for p in places}
    assert StatementLine.objects.count() == 6 == Redemption.objects.filter(settled_at__isnull=False).count()
    assert sorted(Statement.objects.values_list("number", flat=True)) == [f"REL-2026-{n:06d}" for n in (1, 2, 3)]


def test_a_close_racing_undos_leaves_each_redemption_undone_or_on_a_statement_never_both():
    place = redeeming_site()
    recent = timezone.now() - datetime.timedelta(minutes=5)
    redemptions = redemptions_in(place, recent, count=6)
    month = timezone.localtime(recent).date().replace(day=1)
    close_now = timezone.now() + datetime.timedelta(days=40)  # the month has ended for the close

    def undo(redemption):
        return lambda: mediators_services.undo_redemption(place.organisation, redemption.pk, user=place.user)

    jobs = [undo(r) for r in redemptions[:3]]
    jobs.append(lambda: services.close_month(month=month, now=close_now))
    jobs.extend(undo(r) for r in redemptions[3:])
    results = run_together(*jobs)

    for result in results:  # an undo either succeeded or was refused because already settled
        if isinstance(result, Exception):
            assert getattr(result, "code", None) == "redemption_settled", repr(result)
    live_lines = set(StatementLine.objects.filter(live=True).values_list("redemption_id", flat=True))
    for redemption in Redemption.objects.filter(pk__in=[r.pk for r in redemptions]):
        undone, paid = redemption.undone_at is not None, redemption.pk in live_lines
        assert undone != paid, f"{redemption.pk}: annulé={undone}, sur un relevé={paid}"
        assert paid == (redemption.settled_at is not None)
    statement = Statement.objects.filter(site=place.site).first()
    if statement is not None:
        assert statement.redemption_count == len(live_lines)
        assert statement.total_cents == sum(r.amount_cents for r in redemptions if r.pk in live_lines)

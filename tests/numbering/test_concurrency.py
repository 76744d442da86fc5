"""Document numbers are gapless and unique per series and year under concurrency: the counter row
is locked in the transaction that issues the document (real PostgreSQL connections, real threads)."""

import threading
import time

import pytest
from django.db import connection, transaction

from passnum.numbering.models import DocumentCounter, Series
from passnum.numbering.services import next_number


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_concurrent_documents_get_distinct_gapless_numbers_in_each_series():
    """Proves the lock on the (series, year) counter row (``select_for_update`` in ``next_number``),
    held 50 ms by each transaction, and its race-safe creation: sixteen documents at once get
    gapless numbers per series, and a rolled-back one gives its number back."""
    taken = {Series.FAC: [], Series.REL: []}
    lock, barrier = threading.Lock(), threading.Barrier(16)

    def issue(series, fail):
        try:
            barrier.wait()  # every first caller at once: the counter rows do not exist yet
            with transaction.atomic():
                number = next_number(series=series, year=2031)
                time.sleep(0.05)  # hold the lock while the others queue behind it
                if fail:
                    raise Boom  # a rolled-back document gives its number back
                with lock:
                    taken[series].append(number)
        except Boom:
            pass
        finally:
            connection.close()

    threads = [
        threading.Thread(target=issue, args=(series, index == 3))
        for series in (Series.FAC, Series.REL)
        for index in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for series in (Series.FAC, Series.REL):
        assert sorted(taken[series]) == [f"{series}-2031-{n:06d}" for n in range(1, 8)]
        assert DocumentCounter.objects.get(series=series, year=2031).last_number == 7


@pytest.mark.django_db
def test_numbers_follow_each_other_per_series_and_year():
    with transaction.atomic():
        assert next_number(series=Series.REL, year=2026) == "REL-2026-000001"
        assert next_number(series=Series.REL, year=2026) == "REL-2026-000002"
        assert next_number(series=Series.REL, year=2027) == "REL-2027-000001"
        assert next_number(series=Series.AV, year=2026) == "AV-2026-000001"


@pytest.mark.django_db(transaction=True)
def test_a_number_is_refused_outside_the_documents_transaction():
    with pytest.raises(transaction.TransactionManagementError):
        next_number(series=Series.ABO, year=2026)
    assert not DocumentCounter.objects.exists()


@pytest.mark.django_db
def test_an_unknown_series_is_refused():
    with transaction.atomic(), pytest.raises(ValueError):
        next_number(series="XYZ", year=2026)


@pytest.mark.django_db(transaction=True)
def test_a_sponsors_own_series_is_gapless_under_concurrency_and_apart_from_the_others():
    """Proves the partial unique index on (series, year, organisation): eight first orders of the
    same sponsor at once create one counter row (ON CONFLICT waits on that index) and take 1…8,
    while another sponsor counts from 1 on its own row."""
    from tests.factories import OrganisationFactory

    gironde, landes = OrganisationFactory(sponsor=True), OrganisationFactory(sponsor=True)
    taken = {gironde.pk: [], landes.pk: []}
    lock, barrier = threading.Lock(), threading.Barrier(10)

    def issue(sponsor):
        try:
            barrier.wait()  # every first caller at once: no counter row exists yet
            with transaction.atomic():
                number = next_number(series=Series.CMD, year=2031, organisation=sponsor)
                time.sleep(0.02)
                with lock:
                    taken[sponsor.pk].append(number)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(gironde,)) for _ in range(8)]
    threads += [threading.Thread(target=issue, args=(landes,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken[gironde.pk]) == [f"CMD-2031-{n:04d}" for n in range(1, 9)]
    assert sorted(taken[landes.pk]) == ["CMD-2031-0001", "CMD-2031-0002"]
    counters = DocumentCounter.objects.filter(series=Series.CMD, year=2031)
    assert sorted((c.organisation_id, c.last_number) for c in counters) == sorted([(gironde.pk, 8), (landes.pk, 2)])

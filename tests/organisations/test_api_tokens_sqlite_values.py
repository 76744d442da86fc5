"""The token look-up reads plain SQL: SQLite gives naive UTC timestamps and 0/1 booleans, which it
turns into what the ORM would give (the embedded default must work as PostgreSQL does)."""

import datetime

from django.utils import timezone

from passnum.organisations.selectors import _aware


def test_naive_timestamps_are_read_as_utc():
    naive = datetime.datetime(2026, 11, 23, 10, 0)
    assert _aware(naive) == datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)
    aware = timezone.now()
    assert _aware(aware) is aware
    assert _aware(None) is None

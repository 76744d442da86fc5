"""Nightly rollups of the reports' totals (see docs/architecture.md « Les totaux des rapports »).

An owning app (redemptions, hand-overs) keeps totals of its rows for the days that can no longer
change, and one row saying how far they go (``closed_before``, a local midnight). The rollup adds
the days closed since its last run, once each, in the transaction that moves the mark: a rerun
finds nothing new to add. The reports read the totals before the mark and the rows after it,
live, in one statement: they are exact at every instant.
"""

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone


def local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def is_supported() -> bool:
    """Totals are kept on PostgreSQL; elsewhere (the embedded SQLite demo) reports read live."""
    return connection.vendor == "postgresql"


def roll_up(*, mark_model, total_models, statements, undo_window: datetime.timedelta, now=None, rebuild=False):
    """Adds to the totals the days closed since the last run (every day if ``rebuild``, the
    totals being emptied first). ``statements``: SQL with ``%(since)s`` (None: from the start),
    ``%(before)s`` and ``%(tz)s``, each an ``INSERT … SELECT … GROUP BY … ON CONFLICT`` adding the
    live rows of ``[since, before)``. A day is closed once no undo can reach it: its end plus
    ``undo_window`` has passed. Returns ``{"since", "closed_before"}`` (None if nothing to do)."""
    if not is_supported():
        return {"since": None, "closed_before": None}
    now = now or timezone.now()
    before = local_midnight(timezone.localdate(now - undo_window))
    with transaction.atomic():
        # Serialises concurrent runs (even the first): the second waits, then finds the days added.
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(mark_model._meta.db_table)} IN EXCLUSIVE MODE")
        mark = mark_model.objects.filter(pk=1).first()
        if rebuild:
            for model in total_models:
                model.objects.all().delete()
        since = None if mark is None or rebuild else mark.closed_before
        if since is not None and since >= before:
            return {"since": since, "closed_before": None}
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, {"since": since, "before": before, "tz": settings.TIME_ZONE})
        mark_model.objects.update_or_create(pk=1, defaults={"closed_before": before, "rolled_up_at": now})
    return {"since": since, "closed_before": before}

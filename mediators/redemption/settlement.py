"""The settlement of redemptions, shared by the monthly close (clearing) and the undo.

A close and an undo of the same site never race: both take the site's settlement lock (a
PostgreSQL advisory lock held until the transaction ends) before reading redemptions. SQLite, the
embedded default, serialises writers already: there is no lock to take.
"""

import datetime

from django.db import connection
from django.db.models import QuerySet

from mediators.qualification.models import Subscription, SubscriptionStatus
from mediators.redemption.models import Redemption

# First half of the advisory lock key: the namespace of settlement locks (the second half is the
# site's organisation id), so they never collide with another use of advisory locks.
SETTLEMENT_LOCK_NAMESPACE = 0x5E771E


def lock_site_settlement(*, organisation_id: int) -> None:
    """Waits for, then holds until the end of the current transaction, the settlement lock of the
    site of ``organisation_id``."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SETTLEMENT_LOCK_NAMESPACE, organisation_id])


def unsettled_redemptions(*, site_id: int, before: datetime.datetime | None = None) -> QuerySet:
    """Live redemptions of the site, not yet on a statement (redeemed before ``before``, if given)."""
    redemptions = Redemption.objects.filter(site_id=site_id, undone_at__isnull=True, settled_at__isnull=True)
    return redemptions if before is None else redemptions.filter(redeemed_at__lt=before)


def settle_redemptions(*, site_id: int, before: datetime.datetime, now: datetime.datetime) -> int:
    """Marks settled, in one UPDATE, the redemptions that ``unsettled_redemptions`` gives. Call it
    under ``lock_site_settlement``, in the transaction that writes their statement lines."""
    return unsettled_redemptions(site_id=site_id, before=before).update(settled_at=now)


# What a statement line copies of a settled redemption, in this order.
SETTLED_COLUMNS = (
    "id",
    "service_id",
    "point_of_presence_id",
    "programme_id",
    "pass_count",
    "amount_cents",
    "redeemed_at",
)


def settled_redemptions_cte(*, site_id: int, before: datetime.datetime, now: datetime.datetime) -> tuple[str, list]:
    """PostgreSQL only: ``(sql, params)`` of an ``UPDATE … RETURNING`` that marks settled the
    redemptions ``unsettled_redemptions`` gives and returns their ``SETTLED_COLUMNS``, for the close
    to put in a ``WITH`` and copy into statement lines in the same statement (one pass over the
    rows instead of a read then an update). Call it under ``lock_site_settlement``."""
    table = connection.ops.quote_name(Redemption._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in SETTLED_COLUMNS)
    sql = (
        f"UPDATE {table} SET settled_at = %s WHERE site_id = %s AND undone_at IS NULL "  # noqa: S608
        f"AND settled_at IS NULL AND redeemed_at < %s RETURNING {columns}"
    )
    return sql, [now, site_id, before]


def unsettle_redemptions(*, redemption_ids) -> int:
    """Back to unsettled (a voided statement): the next close pays them. ``redemption_ids`` may be
    a subquery."""
    return Redemption.objects.filter(pk__in=redemption_ids, settled_at__isnull=False).update(settled_at=None)


def sites_with_unsettled_redemptions(*, before: datetime.datetime) -> QuerySet:
    """Ids of the sites that have live redemptions not yet on a statement, redeemed before
    ``before`` (one query)."""
    return (
        Redemption.objects.filter(undone_at__isnull=True, settled_at__isnull=True, redeemed_at__lt=before)
        .order_by()
        .values_list("site_id", flat=True)
        .distinct()
    )


def unpaid_subscriptions(*, site_id: int, up_to_year: int) -> QuerySet:
    """The site's subscriptions still to pay (oldest first), for years up to ``up_to_year``."""
    return Subscription.objects.filter(site_id=site_id, status=SubscriptionStatus.DUE, year__lte=up_to_year).order_by(
        "year"
    )


def due_subscriptions() -> QuerySet:
    """Every subscription still to pay, with its site and organisation."""
    return Subscription.objects.filter(status=SubscriptionStatus.DUE).select_related("site__organisation")

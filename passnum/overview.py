"""The operator's overview of the whole scheme (``/operateur/``): figures only, no personal data.

Composed of each app's read-only selectors, every figure one query of its owner's data; the
number of SQL queries is fixed, whatever the size of the scheme (tested). The page draws two
charts from ``charts`` and shows the same figures in tables: a chart is never the only way to
read a number.
"""

import datetime

from django.utils import timezone

from beneficiaries import selectors as beneficiary_selectors
from clearing import selectors as clearing_selectors
from clearing.payments import selectors as payment_selectors
from mediators.qualification import selectors as qualification_selectors
from mediators.redemption import selectors as redemption_selectors
from passnum.passes import selectors as pass_selectors
from sponsors import selectors as sponsor_selectors
from sponsors.reporting import labels

MONTHS_SHOWN = 12
EXPIRY_WINDOW_DAYS = 60
BATCHES_SHOWN = 5
PASS_FIGURES = [
    ("sold", "Vendus (commande payée)"),
    ("handed_out", "Remis à des personnes"),
    ("used", "Utilisés (encaissés)"),
    ("expired", "Expirés sans être utilisés"),
]


def _months(today: datetime.date) -> list[datetime.date]:
    """The first days of the last ``MONTHS_SHOWN`` months, this month included, oldest first."""
    first = today.replace(day=1)
    months = []
    for back in range(MONTHS_SHOWN - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        months.append(datetime.date(year, month + 1, 1))
    return months


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _by_month(months, redemptions, hand_overs) -> list[dict]:
    def key(value):
        return timezone.localtime(value).date() if isinstance(value, datetime.datetime) else value

    redeemed = {key(row["period"]): row for row in redemptions}
    handed = {key(row["period"]): row["count"] for row in hand_overs}
    rows = []
    for month in months:
        row = redeemed.get(month, {})
        rows.append(
            {
                "month": month,
                "label": labels.month(month),
                "hand_overs": handed.get(month, 0),
                "redemptions": row.get("count") or 0,
                "passes": row.get("passes") or 0,
                "cents": row.get("cents") or 0,
            }
        )
    return rows


def scheme_overview(*, today: datetime.date | None = None) -> dict:
    """Every figure of the operator's overview (see docs/architecture.md « Vue d'ensemble »)."""
    today = today or timezone.localdate()
    months = _months(today)
    next_month = _months(today.replace(day=28) + datetime.timedelta(days=4))[-1]
    start, end = _aware(months[0]), _aware(next_month)
    passes = pass_selectors.scheme_pass_figures()
    sites = qualification_selectors.scheme_site_counts()
    statements = clearing_selectors.scheme_statement_figures()
    ending = list(sponsor_selectors.programmes_ending_soon(today=today, within_days=EXPIRY_WINDOW_DAYS))
    active = pass_selectors.active_passes_by_programme(programme_ids=[p.pk for p in ending])
    by_month = _by_month(
        months,
        redemption_selectors.scheme_redemptions_by_month(start=start, end=end),
        beneficiary_selectors.scheme_hand_overs_by_month(start=start, end=end),
    )
    pass_rows = [
        {"key": key, "label": label, "passes": passes[key][0], "cents": passes[key][1]} for key, label in PASS_FIGURES
    ]
    return {
        "today": today,
        "window": EXPIRY_WINDOW_DAYS,
        "passes": pass_rows,
        "active": {"passes": passes["active"][0], "cents": passes["active"][1]},
        "sites": {"qualified": sites["qualified"], "suspended": sites["suspended"], "paid": statements["sites_paid"]},
        "paid_cents": statements["paid_cents"],
        "last_close": _last_close(statements["last_close"]),
        "batches": payment_selectors.last_batches(limit=BATCHES_SHOWN),
        "ending": [
            {
                "name": programme.name,
                "sponsor": programme.sponsor.name,
                "valid_until": programme.valid_until,
                "days_left": (programme.valid_until - today).days,
                "active_passes": active.get(programme.pk, (0, 0))[0],
                "active_cents": active.get(programme.pk, (0, 0))[1],
            }
            for programme in ending
        ],
        "by_month": by_month,
        "charts": {
            "passes": {"labels": [row["label"] for row in pass_rows], "values": [row["passes"] for row in pass_rows]},
            "months": {
                "labels": [row["label"] for row in by_month],
                "hand_overs": [row["hand_overs"] for row in by_month],
                "redemptions": [row["redemptions"] for row in by_month],
            },
        },
    }


def _last_close(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {**row, "label": labels.month(row["month"])}

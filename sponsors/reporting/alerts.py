"""The alerts at the top of a programme's report, each with its figure: the programme's end
(J-30, J-15, J-7, as clearing decides and sends it), booklets idle in a prescriber's stock, and a
site whose redemptions this month are more than 3 times its monthly median."""

import datetime
from statistics import median

from django.utils import timezone

from clearing import selectors as clearing_selectors
from clearing.money import euros
from passnum.passes.models import PassState
from sponsors.reporting import labels
from sponsors.reporting.suppression import is_small

UNUSUAL_FACTOR = 3


def programme_alerts(*, programme, report: dict, site_months: list[dict], today: datetime.date) -> list[dict]:
    """``[{"kind", "text"}]``, most urgent first: one query (the end-of-programme alert sent); the
    idle stock is read from the report, the unusual volume from ``site_months`` (the redemptions
    per site and month over the programme's life, ``[{"site_id", "site_name", "month", "count"}]``)."""
    return [
        *_expiry(programme, report, today),
        *_idle_stock(report),
        *_unusual_volume(site_months, today),
    ]


def _expiry(programme, report, today):
    alert = clearing_selectors.programme_expiry_alert(programme=programme, today=today)
    if alert is None:
        return []
    active = next(row for row in report["pass_states"]["rows"] if row["key"] == PassState.ACTIVE)
    when = (
        "aujourd'hui"
        if alert["days_left"] == 0
        else f"dans {alert['days_left']} jour" + ("s" if alert["days_left"] > 1 else "")
    )
    sent = f" L'alerte {alert['label']} vous a été envoyée le {alert['sent_at']:%d/%m/%Y}." if alert["sent_at"] else ""
    return [
        {
            "kind": "expiry",
            "label": alert["label"],
            "text": f"Fin du programme {when} ({alert['label']}, pass valables jusqu'au "
            f"{alert['valid_until']:%d/%m/%Y}, encaissables jusqu'au {alert['expires_on']:%d/%m/%Y}) : "
            f"{active['passes']} pass encore utilisables, d'une valeur de {euros(active['cents'])}.{sent}",
            "figure": active["passes"],
        }
    ]


def _idle_stock(report):
    """Booklets, not people: shown as they are."""
    rows = sorted(
        (row for row in report["by_prescriber"]["rows"] if row["idle"]), key=lambda r: (-r["idle"], r["label"])
    )
    return [
        {
            "kind": "idle",
            "label": "Stock qui dort",
            "text": f"{row['label']} : {row['idle']} carnet{'s' if row['idle'] > 1 else ''} sur {row['in_stock']} en "
            f"stock sans mouvement depuis plus de 60 jours.",
            "figure": row["idle"],
        }
        for row in rows
    ]


def unusual_sites(*, months: list[dict], this_month: datetime.date) -> list[dict]:
    """From ``[{"site_id", "site_name", "month", "count"}]``: the sites whose count this month is
    more than 3 times the median of their previous months (from their first month with a
    redemption to last month, months without any counting 0) and not a small count (« < 5 »)."""
    sites = {}
    for row in months:
        month = row["month"]
        if isinstance(month, datetime.datetime):
            month = timezone.localtime(month).date()
        sites.setdefault(row["site_id"], {"name": row["site_name"], "counts": {}})["counts"][month] = row["count"]
    found = []
    for site in sites.values():
        counts = site["counts"]
        current = counts.get(this_month, 0)
        previous_months = _months(min(counts), this_month)
        if not previous_months or is_small(current) or not current:
            continue
        middle = median(counts.get(month, 0) for month in previous_months)
        if current > UNUSUAL_FACTOR * middle:
            found.append({"site": site["name"], "count": current, "median": middle})
    return sorted(found, key=lambda s: (-s["count"], s["site"]))


def _months(first: datetime.date, this_month: datetime.date) -> list[datetime.date]:
    """The first days of the months from ``first`` to the month before ``this_month``."""
    months, month = [], first
    while month < this_month:
        months.append(month)
        month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _unusual_volume(months, today):
    this_month = today.replace(day=1)
    return [
        {
            "kind": "unusual",
            "label": "Volume inhabituel",
            "text": f"{site['site']} : {site['count']} encaissements en {labels.month(this_month)}, plus de "
            f"{UNUSUAL_FACTOR} fois sa médiane mensuelle des mois précédents ({_number(site['median'])}).",
            "figure": site["count"],
        }
        for site in unusual_sites(months=months, this_month=this_month)
    ]


def _number(value) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}".replace(".", ",")

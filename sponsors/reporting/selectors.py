"""A programme's report, for its sponsor: aggregates only, small counts suppressed.

Composed of each app's read-only selectors (every figure is one GROUP BY of its owner's data);
the number of SQL queries is fixed, whatever the size of the programme. Read by the programme
page (``sponsors.views.programme_detail``) and the API (``sponsors.api``).
"""

import datetime
from collections import defaultdict

from django.utils import timezone

from aptic_catalog import selectors as catalogue_selectors
from beneficiaries import selectors as beneficiary_selectors
from mediators.redemption import selectors as redemption_selectors
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import PassState
from sponsors import selectors as sponsor_selectors
from sponsors.reporting import labels
from sponsors.reporting.periods import Period
from sponsors.reporting.suppression import PRIMARY, is_small, suppress_list, suppress_tree

IDLE_DAYS = 60
COUNTERS = [
    ("issued", "Émis"),
    ("at_prescribers", "Chez les prescripteurs"),
    ("handed_out", "Remis"),
    ("started", "Commencés"),
    ("used_up", "Épuisés"),
    ("cancelled", "Annulés"),
]
PASS_STATES = [
    (PassState.CREATED, "Créés, commande non payée"),
    (PassState.ACTIVE, "Actifs, utilisables"),
    ("redeemed_unsettled", "Encaissés, à rembourser aux structures"),
    ("settled", "Encaissés, remboursés ou en cours de paiement"),
    (PassState.EXPIRED, "Expirés"),
    (PassState.CANCELLED, "Annulés"),
]


def programme_report(*, programme, period: Period, today: datetime.date | None = None) -> dict:
    """Every table of the programme's report (see docs/architecture.md « Rapports »)."""
    today = today or timezone.localdate()
    window = {"programme_id": programme.pk, "start": period.start, "end": period.end}
    over_time = redemption_selectors.programme_redemptions_over_periods(periods=("month", "week"), **window)
    return {
        "period": period,
        "counters": _counters(programme),
        "pass_states": _pass_states(programme),
        "by_month": _over_time(over_time["month"], "month"),
        "by_week": _over_time(over_time["week"], "week"),
        "by_service": _by_service(window),
        "by_place": _by_place(window),
        "by_place_commune": _by_place_commune(window),
        "by_department": _by_department(window),
        "by_prescriber": _by_prescriber(programme, window, today),
    }


def _counters(programme) -> list[dict]:
    """Booklets today; a count of hand-overs below 5 is shown « < 5 » (primary suppression only:
    these counters are not parts of one total)."""
    counters = sponsor_selectors.programme_counters(programme=programme)
    return [
        {"key": key, "label": label, "count": counters[key], "hidden": PRIMARY if is_small(counters[key]) else None}
        for key, label in COUNTERS
    ]


def _pass_states(programme) -> dict:
    """Passes and their face value by state (passes are the sponsor's stock, not people: shown)."""
    by_state = pass_selectors.value_by_programme_and_state(programme=programme).get(programme.pk, {})
    redeemed = redemption_selectors.programme_redeemed_settlement(programme_id=programme.pk)
    figures = {state: by_state.get(state, (0, 0)) for state in PassState.values}
    figures["redeemed_unsettled"] = redeemed["redeemed_unsettled"]
    figures["settled"] = redeemed["settled"]
    rows = [
        {"key": str(key), "label": label, "passes": figures[key][0], "cents": figures[key][1], "hidden": None}
        for key, label in PASS_STATES
    ]
    total = {
        "passes": sum(figures[s][0] for s in PassState.values),
        "cents": sum(figures[s][1] for s in PassState.values),
        "hidden": None,
    }
    return {"rows": rows, "total": total}


def _table(rows, total) -> dict:
    """Rows and their total row; the passes and amounts of the total follow its count's fate."""
    for name in ("passes", "cents"):
        if rows and name in rows[0]:
            total[name] = sum(row[name] for row in rows)
    return {"rows": rows, "total": total}


def _over_time(rows, period: str) -> dict:
    for row in rows:
        day = row["period"]
        if isinstance(day, datetime.datetime):
            day = timezone.localtime(day).date()
        row["key"] = day.isoformat()
        row["label"] = labels.month(day) if period == "month" else labels.week(day)
    return _table(*suppress_list(rows=rows))


def _by_service(window) -> dict:
    """Level → sub-category → service of the referential, each with its sub-total."""
    rows = redemption_selectors.programme_redemptions_by_service(**window)
    services = catalogue_selectors.services_with_hierarchy(service_ids=[r["service_id"] for r in rows])
    levels = {}
    for row in sorted(rows, key=lambda r: (services[r["service_id"]].subcategory.code, services[r["service_id"]].code)):
        service = services[row["service_id"]]
        level = levels.setdefault(
            service.subcategory.level_id, {"label": str(service.subcategory.level), "subcategories": {}}
        )
        subcategory = level["subcategories"].setdefault(
            service.subcategory_id, {"label": str(service.subcategory), "children": []}
        )
        subcategory["children"].append({"key": str(service.code), "label": str(service), **_figures(row)})
    nodes = []
    for level_id, level in sorted(levels.items()):
        children = [
            {"key": label_key, **_summed(sub["children"]), "label": sub["label"], "children": sub["children"]}
            for label_key, sub in ((str(k), v) for k, v in level["subcategories"].items())
        ]
        nodes.append({"key": str(level_id), "label": level["label"], **_summed(children), "children": children})
    return _table(*suppress_tree(nodes=nodes))


def _by_place(window) -> dict:
    """Site → its points de présence."""
    sites = {}
    for row in redemption_selectors.programme_redemptions_by_point(**window):
        site = sites.setdefault(row["site_id"], {"key": str(row["site_id"]), "label": row["site_name"], "children": []})
        site["children"].append({"key": str(row["point_id"]), "label": row["point_name"], **_figures(row)})
    nodes = [{**site, **_summed(site["children"])} for site in sites.values()]
    return _table(*suppress_tree(nodes=nodes))


def _by_place_commune(window) -> dict:
    found = list(redemption_selectors.programme_redemptions_by_place_commune(**window))
    names = labels.communes(codes=[row["commune"] for row in found])
    rows = [{"key": row["commune"], "label": names[row["commune"]], **_figures(row)} for row in found]
    return _table(*suppress_list(rows=rows))


def _by_department(window) -> dict:
    found = list(beneficiary_selectors.programme_hand_overs_by_department(**window))
    names = labels.departments(codes=[row["department"] for row in found])
    rows = [{"key": row["department"], "label": names[row["department"]], "count": row["count"]} for row in found]
    return _table(*suppress_list(rows=rows))


def _by_prescriber(programme, window, today) -> dict:
    """Hand-overs per prescriber (suppressed: they count people) with the pace per month, next to
    the booklets it holds and those idle in stock for more than 60 days (booklets: shown)."""
    idle_since = timezone.make_aware(datetime.datetime.combine(today, datetime.time())) - datetime.timedelta(
        days=IDLE_DAYS
    )
    stock = {
        row["prescriber_id"]: row
        for row in pass_selectors.programme_stock_by_prescriber(programme_id=programme.pk, idle_since=idle_since)
    }
    hand_overs = {
        row["prescriber_id"]: row for row in beneficiary_selectors.programme_hand_overs_by_prescriber(**window)
    }
    names = {pk: row["prescriber_name"] for pk, row in (*stock.items(), *hand_overs.items())}
    rows = []
    for pk in sorted(names, key=lambda pk: (names[pk], pk)):
        given, held = hand_overs.get(pk), stock.get(pk, {"in_stock": 0, "idle": 0})
        count = given["count"] if given else 0
        months = _months_between(given["first"], given["last"]) if given else 1
        rows.append(
            {
                "key": str(pk),
                "label": names[pk],
                "count": count,
                "per_month": round(count / months, 1),
                "in_stock": held["in_stock"],
                "idle": held["idle"],
            }
        )
    rows, total = suppress_list(rows=rows)
    total["in_stock"] = sum(r["in_stock"] for r in rows)
    total["idle"] = sum(r["idle"] for r in rows)
    return _table(rows, total)


def _months_between(first, last) -> int:
    first, last = timezone.localtime(first), timezone.localtime(last)
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _figures(row) -> dict:
    return {"count": row["count"], "passes": row["passes"] or 0, "cents": row["cents"] or 0}


def _summed(children) -> dict:
    totals = defaultdict(int)
    for child in children:
        for name in ("count", "passes", "cents"):
            totals[name] += child[name]
    return dict(totals)

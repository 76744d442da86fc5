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
from beneficiaries.models import AgeBand
from mediators.redemption import selectors as redemption_selectors
from passnum import audiences as audience_codes
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import PassState
from passnum.territories import selectors as territory_selectors
from sponsors import selectors as sponsor_selectors
from sponsors.reporting import labels
from sponsors.reporting.alerts import programme_alerts
from sponsors.reporting.charts import charts_of
from sponsors.reporting.periods import Period
from sponsors.reporting.suppression import PRIMARY, Sum, is_small, suppress, suppress_list, suppress_tree
from sponsors.reporting.territory import Territory

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


def programme_report(
    *, programme, period: Period, territory: Territory | None = None, today: datetime.date | None = None
) -> dict:
    """Every table of the programme's report (see docs/architecture.md « Rapports »). A
    ``territory`` narrows the redemptions to the places in it and the hand-overs to the people
    living in it (the booklet counters, passes and stock stay the whole programme's)."""
    today = today or timezone.localdate()
    window = {"programme_id": programme.pk, "start": period.start, "end": period.end}
    code = territory.code if territory else None
    # The places by month over the programme's life: the places table (the period's months), the
    # places' communes and the unusual-volume alert read them (one query).
    point_months = redemption_selectors.programme_redemptions_by_point_and_month(
        programme_id=programme.pk, territory=code
    )
    points = _points_in(point_months, period)
    place_communes = _points_by_commune(points)
    people = _people(window, code)
    communes = labels.communes(
        codes=sorted(
            {row["commune"] for row in (*place_communes, *people["hand_overs"], *people["redemptions"])} - {None}
        )
    )
    by_person = _by_person(people, communes)
    over_time = _over_periods(window, code)
    report = {
        "period": period,
        "territory": territory,
        "counters": _counters(programme),
        "pass_states": _pass_states(programme),
        "by_month": _over_time(over_time["month"], "month"),
        "by_week": _over_time(over_time["week"], "week"),
        "by_service": _by_service(window, code),
        "by_place": _by_place(points),
        "by_place_commune": _by_place_commune(place_communes, communes),
        "by_department": by_person["hand_overs_by_department"],
        "by_person_commune": by_person["hand_overs"],
        "by_beneficiary_commune": by_person["redemptions"],
        "by_prescriber": _by_prescriber(programme, window, today, code),
        **_by_audience_and_age_band(programme, window, code),
    }
    report["alerts"] = programme_alerts(
        programme=programme, report=report, site_months=_sites_by_month(point_months), today=today
    )
    report["charts"] = charts_of(report=report)
    return report


def _services(window, territory: str | None) -> list[dict]:
    """Redemptions by service: the programme's (from its pre-computed totals), or those at the
    places of a territory."""
    if territory:
        return redemption_selectors.programme_redemptions_in_territory(
            breakdown="service", territory=territory, **window
        )
    return redemption_selectors.programme_redemptions_by_service(**window)


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


def _over_periods(window, territory: str | None) -> dict:
    """Redemptions by month and by week, from one query over the days."""
    return redemption_selectors.programme_redemptions_over_periods(
        periods=("month", "week"), territory=territory, **window
    )


def _over_time(rows, period: str) -> dict:
    for row in rows:
        day = row["period"]
        if isinstance(day, datetime.datetime):
            day = timezone.localtime(day).date()
        row["key"] = day.isoformat()
        row["label"] = labels.month(day) if period == "month" else labels.week(day)
    return _table(*suppress_list(rows=rows))


def _by_service(window, territory: str | None) -> dict:
    """Level → sub-category → service of the referential, each with its sub-total."""
    rows = _services(window, territory)
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


def _by_place(points) -> dict:
    """Site → its points de présence."""
    sites = {}
    for row in points:
        site = sites.setdefault(row["site_id"], {"key": str(row["site_id"]), "label": row["site_name"], "children": []})
        site["children"].append({"key": str(row["point_id"]), "label": row["point_name"], **_figures(row)})
    nodes = [{**site, **_summed(site["children"])} for site in sites.values()]
    return _table(*suppress_tree(nodes=nodes))


def _points_in(point_months, period: Period) -> list[dict]:
    """The points' figures added up over the months of ``period``, sorted by site then point."""
    first, last = period.first_month, period.last_month
    points = {}
    for row in point_months:
        if (first and row["month"] < first) or (last and row["month"] > last):
            continue
        key = (row["site_id"], row["point_id"])
        point = points.setdefault(key, {**row, "count": 0, "passes": 0, "cents": 0})
        for name, value in _figures(row).items():
            point[name] += value
    return sorted(points.values(), key=lambda r: (r["site_name"], r["site_id"], r["point_name"], r["point_id"]))


def _sites_by_month(point_months) -> list[dict]:
    """``[{"site_id", "site_name", "month", "count"}]``: the points' months added up by site."""
    sites = {}
    for row in point_months:
        site = sites.setdefault(
            (row["site_id"], row["month"]),
            {"site_id": row["site_id"], "site_name": row["site_name"], "month": row["month"], "count": 0},
        )
        site["count"] += row["count"]
    return list(sites.values())


def _points_by_commune(points) -> list[dict]:
    """The redemptions by point de présence added up by the point's commune (INSEE code)."""
    communes = {}
    for row in points:
        totals = communes.setdefault(row["commune"], {"commune": row["commune"], "count": 0, "passes": 0, "cents": 0})
        for name, value in _figures(row).items():
            totals[name] += value
    return [communes[code] for code in sorted(communes)]


def _by_place_commune(found, names) -> dict:
    rows = [{"key": row["commune"], "label": names[row["commune"]], **_figures(row)} for row in found]
    return _table(*suppress_list(rows=rows))


def _people(window, territory: str | None) -> dict:
    """Hand-overs and redemptions by the commune of the person (two GROUP BYs)."""
    return {
        "hand_overs": beneficiary_selectors.programme_hand_overs_by_commune(territory=territory, **window),
        "redemptions": redemption_selectors.programme_redemptions_by_beneficiary_commune(
            booklet_communes=beneficiary_selectors.programme_booklet_communes(programme_id=window["programme_id"]),
            territory=territory,
            **window,
        ),
    }


def _by_person(people, communes) -> dict:
    """Where the people live: hand-overs and redemptions by the department → commune of the
    person. Each is suppressed as one hierarchy, and the hand-overs by department are that
    hierarchy's top level: a department and its communes can never be subtracted from each other
    across two tables."""
    hand_overs, redemptions = people["hand_overs"], people["redemptions"]
    codes = {territory_selectors.department_of(insee_code=row["commune"]) for row in (*hand_overs, *redemptions)
             if row["commune"]}  # fmt: skip
    departments = labels.departments(codes=sorted(codes))
    hand_over_tree = _table(*suppress_tree(nodes=_department_tree(hand_overs, communes, departments)))
    return {
        "hand_overs": hand_over_tree,
        "hand_overs_by_department": {
            "rows": [{k: v for k, v in node.items() if k != "children"} for node in hand_over_tree["rows"]],
            "total": hand_over_tree["total"],
        },
        "redemptions": _table(*suppress_tree(nodes=_department_tree(redemptions, communes, departments))),
    }


def _department_tree(found, communes, departments) -> list[dict]:
    """Rows per commune (``commune``, ``count``, maybe ``passes`` and ``cents``) grouped under
    their department; a redemption whose booklet has no live hand-over is on a row of its own."""
    groups, unknown = {}, None
    for row in found:
        figures = _figures(row) if "passes" in row else {"count": row["count"]}
        if not row["commune"]:
            unknown = {"key": "", "label": "Personne inconnue (carnet sans remise en cours)", **figures}
            continue
        department = territory_selectors.department_of(insee_code=row["commune"])
        group = groups.setdefault(department, {"key": department, "label": departments[department], "children": []})
        group["children"].append({"key": row["commune"], "label": communes[row["commune"]], **figures})
    nodes = []
    for _code, group in sorted(groups.items()):
        names = [name for name in ("count", "passes", "cents") if name in group["children"][0]]
        nodes.append({**group, **{name: sum(child[name] for child in group["children"]) for name in names}})
    return nodes + ([unknown] if unknown else [])


def _by_prescriber(programme, window, today, territory: str | None) -> dict:
    """Hand-overs per prescriber (suppressed: they count people) with the pace per month, next to
    the booklets it holds and those idle in stock for more than 60 days (booklets: shown)."""
    idle_since = timezone.make_aware(datetime.datetime.combine(today, datetime.time())) - datetime.timedelta(
        days=IDLE_DAYS
    )
    stock = {
        row["prescriber_id"]: row
        for row in pass_selectors.programme_stock_by_prescriber(programme_id=programme.pk, idle_since=idle_since)
    }
    if territory:
        found = beneficiary_selectors.programme_hand_overs_in_territory(
            breakdown="prescriber", territory=territory, **window
        )
    else:
        found = beneficiary_selectors.programme_hand_overs_by_prescriber(**window)
    hand_overs = {row["prescriber_id"]: row for row in found}
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


# --- By audience and by age band (hand-overs, grouped by code: a renamed label keeps its history) --


def _by_audience_and_age_band(programme, window, territory: str | None) -> dict:
    found = beneficiary_selectors.programme_hand_overs_by_audiences_and_age_band(**window, territory=territory)
    return {"by_audience": _by_audience(programme, found), "by_age_band": _by_age_band(found)}


def _by_audience(programme, found) -> dict:
    """Hand-overs per audience code of the beneficiary, with a row for those without any. When
    nobody has two audiences the rows add up to the hand-overs (the total the other tables
    show): they are suppressed as its parts, secondary suppression included. Otherwise a person
    of several audiences counts in each, the rows add up to more than the hand-overs by an
    amount nobody is shown, and each row is suppressed on its own. No total row either way."""
    counts = defaultdict(int)
    hand_overs = 0
    for row in found:
        hand_overs += row["count"]
        for code in row["audiences"] or [audience_codes.NO_AUDIENCE]:
            counts[code] += row["count"]
    if not hand_overs:
        return {"rows": [], "total": None}
    targeted = [code for code in programme.audiences or [] if code != audience_codes.NO_AUDIENCE]
    labels = sponsor_selectors.audience_labels(programme=programme, codes=[*targeted, *counts])
    others = sorted((c for c in counts if c not in targeted and c != audience_codes.NO_AUDIENCE), key=labels.get)
    codes = [*targeted, *others, *([audience_codes.NO_AUDIENCE] if audience_codes.NO_AUDIENCE in counts else [])]
    values = {code: counts[code] for code in codes}
    parts_of_total = sum(values.values()) == hand_overs
    values[None] = hand_overs
    hidden = suppress(values=values, sums=[Sum(total=None, parts=tuple(codes))] if parts_of_total else [])
    rows = [{"key": code, "label": labels[code], "count": counts[code], "hidden": hidden.get(code)} for code in codes]
    return {"rows": rows, "total": None}


def _by_age_band(found) -> dict:
    """Hand-overs per age band of the beneficiary, every band shown (zeros too), « Non
    renseigné » for a record without one; the bands part the hand-overs: a total row."""
    counts = defaultdict(int)
    for row in found:
        counts[row["age_band"]] += row["count"]
    if not counts:
        return {"rows": [], "total": {"count": 0, "hidden": None}}
    rows = [{"key": band, "label": label, "count": counts.get(band, 0)} for band, label in AgeBand.choices]
    unknown = sum(count for band, count in counts.items() if band not in AgeBand.values)
    if unknown:
        rows.append({"key": "inconnu", "label": "Non renseigné", "count": unknown})
    return _table(*suppress_list(rows=rows))

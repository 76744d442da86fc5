"""Reads of redemptions: the site's lists and totals, the undo window, stored idempotent answers
and the redemption context read in one SQL statement on the hot path.
"""

import datetime
from collections import namedtuple
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, F, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from mediators.redemption.models import RedeemedPass, Redemption, RefusedScan
from passnum import sql_text
from passnum.db import prepared_cursor

UNDO_WINDOW = datetime.timedelta(hours=24)


def live_redemption_of(pass_ids):
    """The live redemption of one of these passes (when and where it was redeemed), or None."""
    line = (
        RedeemedPass.objects.filter(pass_ref_id__in=pass_ids, is_live=True)
        .select_related("redemption__site", "redemption__point_of_presence", "redemption__redeemed_by")
        .first()
    )
    return line.redemption if line else None


def is_undoable(redemption, now=None):
    """Whether a redemption may still be undone: live, not on a statement, within 24 hours
    (``services.undo_redemption`` refuses the others, each with its code)."""
    now = now or timezone.now()
    return (
        redemption.undone_at is None and redemption.settled_at is None and now - redemption.redeemed_at <= UNDO_WINDOW
    )


def redemption_as_dict(redemption, codes=None):
    """The API's body of a redemption (also stored as the answer of its idempotency key): a
    ``Redemption``, or the redemption checked on the hot path (same attributes). Without
    ``codes``, they are read from its lines (prefetch ``lines__pass_ref``)."""
    from passnum.passes.codes import grouped

    if codes is None:
        codes = [line.pass_ref.code for line in redemption.lines.all()]
    return {
        "id": str(redemption.pk),
        "status": "live" if redemption.undone_at is None else "undone",
        "codes": [grouped(code) for code in codes],
        "booklet": redemption.booklet.serial,
        "programme": redemption.programme.name,
        "service": {"code": redemption.service.code, "title": redemption.service.title},
        "point_of_presence": {"id": redemption.point_of_presence_id, "name": redemption.point_of_presence.name},
        "pass_count": redemption.pass_count,
        "amount_cents": redemption.amount_cents,
        "beneficiary_share_cents": redemption.beneficiary_share_cents,
        "scanned_at": redemption.scanned_at.isoformat(),
        "redeemed_at": redemption.redeemed_at.isoformat(),
        "undo_until": (redemption.redeemed_at + UNDO_WINDOW).isoformat(),
        "undone_at": redemption.undone_at.isoformat() if redemption.undone_at else None,
    }


def redemptions_of(organisation, *, month=None, service_code=None, point_id=None):
    """A site's redemptions, newest first, optionally for one month (``date`` of its first day),
    one #APTIC service or one point of presence."""
    redemptions = Redemption.objects.for_organisation(organisation).select_related(
        "service", "point_of_presence", "booklet", "programme", "redeemed_by"
    )
    if month is not None:
        start = timezone.make_aware(datetime.datetime(month.year, month.month, 1))
        end = timezone.make_aware(datetime.datetime(month.year + month.month // 12, month.month % 12 + 1, 1))
        redemptions = redemptions.filter(redeemed_at__gte=start, redeemed_at__lt=end)
    if service_code is not None:
        redemptions = redemptions.filter(service__code=service_code)
    if point_id is not None:
        redemptions = redemptions.filter(point_of_presence_id=point_id)
    return redemptions.prefetch_related("lines__pass_ref").order_by("-redeemed_at")


def redemption_totals(redemptions):
    """Count, passes and amount (cents) of the live redemptions of a queryset."""
    return redemptions.filter(undone_at__isnull=True).aggregate(
        count=Count("pk"), passes=Sum("pass_count", default=0), amount_cents=Sum("amount_cents", default=0)
    )


def refused_scans_of(organisation):
    return RefusedScan.objects.for_organisation(organisation).select_related("point_of_presence", "service", "user")


RedemptionContext = namedtuple("RedemptionContext", ["site", "subscription", "point", "item"])


# The redemption's hot path reads what it checks about the site in one statement, in plain SQL:
# the ORM would spend more time writing this query than PostgreSQL spends answering it.
_CONTEXT_SQL = """
SELECT site.id, site.status, sub.status, sub.due_date,
       point.id, point.name, point.insee_code,
       item.passes_required, service.id, service.code, service.title, subcategory.id, subcategory.level_id
FROM mediators_site site
LEFT JOIN mediators_subscription sub ON sub.site_id = site.id AND sub.year = %s
LEFT JOIN mediators_pointofpresence point ON point.site_id = site.id AND point.id = %s AND point.is_active
LEFT JOIN aptic_catalog_service service ON service.code = %s
LEFT JOIN mediators_catalogueitem item
       ON item.site_id = site.id AND item.service_id = service.id AND item.is_active
LEFT JOIN aptic_catalog_subcategory subcategory ON subcategory.id = service.subcategory_id
WHERE site.organisation_id = %s
"""


def redemption_context(organisation, point_id, service_code, today):
    """The site of ``organisation``, this year's subscription, the open point of presence
    ``point_id`` of the site and its active catalogue entry for the #APTIC service
    ``service_code``, as plain values (``None`` where missing), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_CONTEXT_SQL, [today.year, point_id, service_code, organisation.pk])
        row = cursor.fetchone()
    return _context_from_row(organisation, row, today)


class RedemptionSite(NamedTuple):
    pk: int
    status: str
    organisation: object


class RedemptionSubscription(NamedTuple):
    status: str
    due_date: datetime.date


class RedemptionPlace(NamedTuple):
    pk: int
    name: str
    insee_code: str


class RedemptionSubcategory(NamedTuple):
    pk: int
    level_id: int


class RedemptionService(NamedTuple):
    pk: int
    code: int
    title: str
    subcategory: RedemptionSubcategory

    @property
    def subcategory_id(self):
        return self.subcategory.pk


class RedemptionItem(NamedTuple):
    passes_required: int
    service: RedemptionService


def _context_from_row(organisation, row, today):
    """Plain values, not model instances: the hot path reads them once and builds nothing."""
    if row is None or row[0] is None:
        return RedemptionContext(None, None, None, None)
    site_id, status, sub_status, sub_due, point_pk, point_name, insee, passes_required, *service = row
    site = RedemptionSite(site_id, status, organisation)
    subscription = None
    if sub_status is not None:
        due = sub_due if isinstance(sub_due, datetime.date) else datetime.date.fromisoformat(sub_due)
        subscription = RedemptionSubscription(sub_status, due)
    point = RedemptionPlace(point_pk, point_name, insee) if point_pk else None
    item = None
    if passes_required is not None:
        service_pk, code, title, subcategory_pk, level_id = service
        subcategory = RedemptionSubcategory(subcategory_pk, level_id)
        item = RedemptionItem(passes_required, RedemptionService(service_pk, code, title, subcategory))
    return RedemptionContext(site, subscription, point, item)


# --- the ledger check (clearing.selectors.ledger): what the live redemption lines say a
# programme's redeemed passes are worth, split by whether their redemption was settled.


def redeemed_value_by_programme(*, programme=None) -> dict[int, dict[str, tuple[int, int]]]:
    """``{programme_id: {"redeemed_unsettled": (passes, cents), "settled": (passes, cents)}}``,
    from the live redeemed-pass lines (one query)."""
    lines = RedeemedPass.objects.filter(is_live=True)
    if programme is not None:
        lines = lines.filter(redemption__programme=programme)
    unsettled, settled = Q(redemption__settled_at__isnull=True), Q(redemption__settled_at__isnull=False)
    rows = (
        lines.values("redemption__programme_id")
        .annotate(
            unsettled_n=Count("pk", filter=unsettled),
            unsettled_cents=Sum("face_value_cents", filter=unsettled),
            settled_n=Count("pk", filter=settled),
            settled_cents=Sum("face_value_cents", filter=settled),
        )
        .order_by()
    )
    return {
        row["redemption__programme_id"]: {
            "redeemed_unsettled": (row["unsettled_n"], row["unsettled_cents"] or 0),
            "settled": (row["settled_n"], row["settled_cents"] or 0),
        }
        for row in rows
    }


_CONTEXT_COLUMNS = 13
# The context (one row, or none) next to each pass found (or none): at least one row.
_READING_SQL = """SELECT context.*, pass.* FROM (SELECT 1) AS one
LEFT JOIN ({context}) AS context ON true
LEFT JOIN ({passes}) AS pass ON true"""


def redemption_reading(organisation, point_id, service_code, today, codes):
    """The optimistic path's reading, in one statement: ``redemption_context`` and the passes of
    ``codes`` (``passes_for_redemption``, not locked), one row per pass with the context."""
    from passnum.passes import selectors as pass_selectors

    passes_sql, passes_params = pass_selectors.redemption_passes_sql(codes, for_update=False)
    sql = _READING_SQL.format(context=_CONTEXT_SQL, passes=passes_sql)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [today.year, point_id, service_code, organisation.pk, *passes_params])
        rows = cursor.fetchall()
    context = _context_from_row(organisation, rows[0][:_CONTEXT_COLUMNS], today)
    found = [row[_CONTEXT_COLUMNS:] for row in rows if row[_CONTEXT_COLUMNS] is not None]
    return context, pass_selectors.passes_from_rows(sorted(found))


# --- Reporting: a programme's live redemptions, aggregated (read by sponsors/reporting) ---------
# Each figure is one statement: the nightly totals of the closed days (``RedemptionDayTotal``,
# ``Redemption*MonthTotal``, see ``services.roll_up_totals``) UNION ALL the live redemptions since
# ``RedemptionRollup.closed_before``, added up here. Exact at every instant; without totals (the
# SQLite demo, before the first rollup) the second part is every redemption.


def _programme_redemptions(*, programme_id: int, start=None, end=None):
    """Live redemptions of a programme, redeemed in ``[start, end)`` (datetimes; None: unbounded)."""
    redemptions = Redemption.objects.filter(programme_id=programme_id, undone_at__isnull=True)
    if start is not None:
        redemptions = redemptions.filter(redeemed_at__gte=start)
    if end is not None:
        redemptions = redemptions.filter(redeemed_at__lt=end)
    return redemptions


_FIGURES = {"count": Count("pk"), "passes": Sum("pass_count"), "cents": Sum("amount_cents")}
_DAWN = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)  # before any redemption
_DUSK = datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC)  # after any
_SUMMED = {"count": Sum("count"), "passes": Sum("passes"), "cents": Sum("cents")}


def _since_rollup(redemptions):
    """Of ``redemptions``, those the totals do not hold yet (all of them before any rollup)."""
    from mediators.redemption.models import RedemptionRollup

    closed_before = Subquery(RedemptionRollup.objects.filter(pk=1).values("closed_before"))
    # A scalar subquery, run once before the scan: the index on redeemed_at reads only the rows since.
    # Bounded on both sides, the planner expects few rows (no parallel scan of the table for them).
    return redemptions.filter(redeemed_at__gte=Coalesce(closed_before, Value(_DAWN)), redeemed_at__lt=_DUSK)


def _local_bound(moment, *, grain: str):
    """``moment`` (aware, or None) as a local date if it starts a day (``grain="day"``) or a
    month (``"month"``); ``False`` if it does not (the totals cannot serve that bound)."""
    if moment is None:
        return None
    local = timezone.localtime(moment)
    if local.time() != datetime.time() or (grain == "month" and local.day != 1):
        return False
    return local.date()


def _with_totals(*, totals_model, grain: str, programme_id: int, start, end, keys, live_keys):
    """The totals of the closed days in ``[start, end)`` grouped by ``keys``, and the live
    redemptions since, grouped by ``live_keys`` (the same columns), in one statement; rows
    summed per key: ``[{key…, "count", "passes", "cents"}]`` in no order."""
    live = _programme_redemptions(programme_id=programme_id, start=start, end=end)
    first, last = _local_bound(start, grain=grain), _local_bound(end, grain=grain)
    if first is False or last is False:  # not whole days or months: everything live
        parts = live.values(*live_keys[0], **live_keys[1]).annotate(**_FIGURES).order_by()
    else:
        totals = totals_model.objects.filter(programme_id=programme_id)
        if first is not None:
            totals = totals.filter(**{f"{grain}__gte": first})
        if last is not None:
            totals = totals.filter(**{f"{grain}__lt": last})
        parts = (
            totals.values(*keys[0], **keys[1])
            .annotate(**_SUMMED)
            .order_by()
            .union(_since_rollup(live).values(*live_keys[0], **live_keys[1]).annotate(**_FIGURES).order_by(), all=True)
        )
    summed = {}
    names = [*keys[0], *keys[1]]
    for row in parts:
        key = tuple(row[name] for name in names)
        total = summed.setdefault(key, {**dict(zip(names, key, strict=True)), "count": 0, "passes": 0, "cents": 0})
        for figure in ("count", "passes", "cents"):
            total[figure] += int(row[figure] or 0)
    return list(summed.values())


def programme_redemptions_over_time(*, programme_id: int, period: str, start=None, end=None) -> list[dict]:
    """``[{"period": date, "count", "passes", "cents"}]`` per ``period`` (``"month"`` or ``"week"``,
    weeks starting on Monday, in the site's time zone), oldest first — one statement."""
    return programme_redemptions_over_periods(programme_id=programme_id, periods=(period,), start=start, end=end)[
        period
    ]


def programme_redemptions_over_periods(
    *, programme_id: int, periods: tuple[str, ...], start=None, end=None, territory: str | None = None
) -> dict:
    """``programme_redemptions_over_time`` for several ``periods`` at once (``{period: rows}``),
    from one statement over the days (within a ``territory``: live, at its places)."""
    from django.db.models.functions import TruncDate

    from mediators.redemption.models import RedemptionDayTotal

    day = TruncDate("redeemed_at", tzinfo=timezone.get_current_timezone())
    if territory:
        redemptions = _at_places_of(_programme_redemptions(programme_id=programme_id, start=start, end=end), territory)
        days = [
            {**row, "passes": row["passes"] or 0, "cents": row["cents"] or 0}
            for row in redemptions.values(day=day).annotate(**_FIGURES).order_by()
        ]
    else:
        days = _with_totals(
            totals_model=RedemptionDayTotal, grain="day", programme_id=programme_id, start=start, end=end,
            keys=(["day"], {}), live_keys=([], {"day": day}),
        )  # fmt: skip
    result = {}
    for period in periods:
        buckets = {}
        for row in days:
            day = row["day"]
            first = day.replace(day=1) if period == "month" else day - datetime.timedelta(days=day.weekday())
            total = buckets.setdefault(first, {"period": first, "count": 0, "passes": 0, "cents": 0})
            for figure in ("count", "passes", "cents"):
                total[figure] += row[figure]
        result[period] = [buckets[first] for first in sorted(buckets)]
    return result


def _by_month_total(*, totals_model, start, end, programme_id, keys):
    return _with_totals(
        totals_model=totals_model, grain="month", programme_id=programme_id, start=start, end=end,
        keys=keys, live_keys=keys,
    )  # fmt: skip


def programme_redemptions_by_service(*, programme_id: int, start=None, end=None) -> list[dict]:
    """``[{"service_id", "count", "passes", "cents"}]`` — one statement."""
    from mediators.redemption.models import RedemptionServiceMonthTotal

    rows = _by_month_total(
        totals_model=RedemptionServiceMonthTotal, programme_id=programme_id, start=start, end=end,
        keys=(["service_id"], {}),
    )  # fmt: skip
    return sorted(rows, key=lambda row: row["service_id"])


def programme_redemptions_by_point(*, programme_id: int, start=None, end=None) -> list[dict]:
    """Per point of presence, with its site and its commune: ``[{"site_id", "site_name",
    "point_id", "point_name", "commune", "count", "passes", "cents"}]`` — one statement (names of
    qualified places are public; the commune lets the reader add up points by commune)."""
    keys = (
        ["site_id"],
        {
            "site_name": F("site__organisation__name"),
            "point_id": F("point_of_presence_id"),
            "point_name": F("point_of_presence__name"),
            "commune": F("point_of_presence__insee_code"),
        },
    )
    from mediators.redemption.models import RedemptionPlaceMonthTotal

    rows = _by_month_total(
        totals_model=RedemptionPlaceMonthTotal, programme_id=programme_id, start=start, end=end, keys=keys
    )
    return sorted(rows, key=lambda r: (r["site_name"], r["site_id"], r["point_name"], r["point_id"]))


def programme_redemptions_by_point_and_month(*, programme_id: int, territory: str | None = None) -> list[dict]:
    """Per point of presence (with its site and commune) and month (a date, first of the month),
    over the programme's whole life: ``[{"site_id", "site_name", "point_id", "point_name",
    "commune", "month", "count", "passes", "cents"}]`` in no order — one statement (the monthly
    totals and the live rows since; within a ``territory``, live). The report reads from it both
    its places table (the months of its period) and the unusual-volume alert (every month)."""
    from django.db.models import DateField
    from django.db.models.functions import Cast, TruncMonth

    from mediators.redemption.models import RedemptionPlaceMonthTotal

    # A date, as the totals' month column is (a timestamp would turn the union into timestamps).
    month = Cast(TruncMonth("redeemed_at", tzinfo=timezone.get_current_timezone()), DateField())
    names = {
        "site_name": F("site__organisation__name"),
        "point_id": F("point_of_presence_id"),
        "point_name": F("point_of_presence__name"),
        "commune": F("point_of_presence__insee_code"),
    }
    if territory:
        redemptions = _at_places_of(_programme_redemptions(programme_id=programme_id), territory)
        rows = redemptions.values("site_id", month_=month, **names).annotate(**_FIGURES).order_by()
    else:
        rows = _with_totals(
            totals_model=RedemptionPlaceMonthTotal, grain="month", programme_id=programme_id, start=None, end=None,
            keys=(["site_id"], {"month_": F("month"), **names}), live_keys=(["site_id"], {"month_": month, **names}),
        )  # fmt: skip
    return [{**{k: v for k, v in row.items() if k != "month_"}, "month": row["month_"]} for row in rows]


def programme_redemptions_by_place_commune(*, programme_id: int, start=None, end=None) -> list[dict]:
    """Per commune of the place (INSEE code): ``[{"commune", "count", "passes", "cents"}]`` — one statement."""
    keys = ([], {"commune": F("point_of_presence__insee_code")})
    from mediators.redemption.models import RedemptionPlaceMonthTotal

    rows = _by_month_total(
        totals_model=RedemptionPlaceMonthTotal, programme_id=programme_id, start=start, end=end, keys=keys
    )
    return sorted(rows, key=lambda row: row["commune"])


def programme_redeemed_settlement(*, programme_id: int) -> dict[str, tuple[int, int]]:
    """Of a programme's redeemed passes: ``{"unsettled": (passes, cents), "settled": (passes, cents)}``."""
    return redeemed_value_by_programme(programme=programme_id).get(
        programme_id, {"redeemed_unsettled": (0, 0), "settled": (0, 0)}
    )


# --- Reporting within a territory, by the person's commune, and per site and month -------------
# New reads beside the ones above (whose bodies may be served by pre-computed totals): a report
# narrowed to a territory counts the live redemptions themselves, one GROUP BY per table.


def _at_places_of(redemptions, territory: str | None):
    """Only the redemptions made at a place of ``territory``: a commune's INSEE code (five
    characters) or a department's code (two, three overseas), the commune code starting with it."""
    if territory:
        redemptions = redemptions.filter(point_of_presence__insee_code__startswith=territory)
    return redemptions


def _breakdown_values(breakdown: str, redemptions):
    from django.db.models.functions import TruncMonth, TruncWeek

    if breakdown in ("month", "week"):
        trunc = {"month": TruncMonth, "week": TruncWeek}[breakdown]
        return redemptions.annotate(period=trunc("redeemed_at", tzinfo=timezone.get_current_timezone())).values(
            "period"
        ), ("period",)
    if breakdown == "service":
        return redemptions.values("service_id"), ("service_id",)
    if breakdown == "point":
        return redemptions.values(
            "site_id",
            site_name=F("site__organisation__name"),
            point_id=F("point_of_presence_id"),
            point_name=F("point_of_presence__name"),
            commune=F("point_of_presence__insee_code"),
        ), ("site_name", "site_id", "point_name", "point_id")
    if breakdown == "place_commune":
        return redemptions.values(commune=F("point_of_presence__insee_code")), ("commune",)
    raise ValueError(f"unknown breakdown {breakdown!r}")


def programme_redemptions_in_territory(
    *, programme_id: int, breakdown: str, territory: str, start=None, end=None
) -> list[dict]:
    """The rows of ``programme_redemptions_<breakdown>`` (``"month"``, ``"week"``, ``"service"``,
    ``"point"``, ``"place_commune"``: same keys, same order) for the redemptions made at a place of
    ``territory`` (see ``_at_places_of``) — one GROUP BY."""
    redemptions = _at_places_of(_programme_redemptions(programme_id=programme_id, start=start, end=end), territory)
    grouped, order = _breakdown_values(breakdown, redemptions)
    return list(grouped.annotate(**_FIGURES).order_by(*order))


def programme_redemptions_by_beneficiary_commune(
    *, programme_id: int, booklet_communes, start=None, end=None, territory: str | None = None
) -> list[dict]:
    """Per commune of the person the booklet was handed to: ``[{"commune", "count", "passes",
    "cents"}]`` — one GROUP BY. ``booklet_communes`` is the beneficiaries' queryset of
    (``booklet_id``, ``commune``) (``beneficiaries.selectors.programme_booklet_communes``), joined
    here (a hash join, not a sub-query per redemption); a booklet without a live hand-over has a
    null commune."""
    redemptions = _at_places_of(_programme_redemptions(programme_id=programme_id, start=start, end=end), territory)
    redemptions_sql, redemptions_params = (
        redemptions.values("booklet_id", "pass_count", "amount_cents").order_by().query.sql_with_params()
    )
    communes_sql, communes_params = booklet_communes.order_by().query.sql_with_params()
    # Both parts are Django's own SQL with their parameters apart: nothing typed by a person.
    sql = (
        "SELECT b.commune, COUNT(*), SUM(r.pass_count), SUM(r.amount_cents) "  # noqa: S608
        f"FROM ({redemptions_sql}) r LEFT JOIN ({communes_sql}) b ON b.booklet_id = r.booklet_id "
        "GROUP BY b.commune ORDER BY b.commune"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*redemptions_params, *communes_params])
        return [
            {"commune": commune, "count": count, "passes": passes or 0, "cents": cents or 0}
            for commune, count, passes, cents in cursor.fetchall()
        ]


# --- The operator's overview: every site's live redemptions (read by passnum/overview.py) ------


def scheme_redemptions_by_month(*, start: datetime.datetime, end: datetime.datetime) -> list[dict]:
    """Live redemptions of every programme redeemed in ``[start, end)``, per month (Paris time):
    ``[{"period": date, "count", "passes", "cents"}]``, oldest first — one GROUP BY."""
    from django.db.models.functions import TruncMonth

    return list(
        Redemption.objects.filter(undone_at__isnull=True, redeemed_at__gte=start, redeemed_at__lt=end)
        .annotate(period=TruncMonth("redeemed_at", tzinfo=timezone.get_current_timezone()))
        .values("period")
        .annotate(**_FIGURES)
        .order_by("period")
    )


def redemption_export_rows(*, start=None, end=None, programme_id: int | None = None, as_text: bool = False):
    """Every redemption (undone ones too, with their date) redeemed in ``[start, end)``, oldest
    first, as tuples for the operator's row-level export — without personal data: no pass code,
    no booklet serial (both lead to a person through the hand-over), no agent. Read it with
    ``.iterator(chunk_size=…)`` (a server-side cursor on PostgreSQL). ``as_text`` (PostgreSQL
    only): each row as its CSV line, written by the database (``passnum.sql_text``)."""
    redemptions = Redemption.objects.all()
    if programme_id is not None:
        redemptions = redemptions.filter(programme_id=programme_id)
    if start is not None:
        redemptions = redemptions.filter(redeemed_at__gte=start)
    if end is not None:
        redemptions = redemptions.filter(redeemed_at__lt=end)
    redemptions = redemptions.order_by("redeemed_at", "pk")
    if as_text:
        line = sql_text.csv_line(
            sql_text.text("pk"),
            sql_text.local_datetime_text("redeemed_at"),
            sql_text.text("programme_id"),
            sql_text.csv_cell("programme__name"),
            sql_text.text("site__organisation__siret"),
            sql_text.csv_cell("site__organisation__name"),
            sql_text.csv_cell("point_of_presence__name"),
            sql_text.csv_cell("point_of_presence__insee_code"),
            sql_text.text("service__code"),
            sql_text.text("pass_count"),
            sql_text.euros_text("amount_cents"),
            sql_text.euros_text("beneficiary_share_cents"),
            sql_text.local_datetime_text("undone_at"),
            sql_text.local_datetime_text("settled_at"),
        )
        return redemptions.values_list(line)
    return redemptions.values_list(
        "pk",
        "redeemed_at",
        "programme_id",
        "programme__name",
        "site__organisation__siret",
        "site__organisation__name",
        "point_of_presence__name",
        "point_of_presence__insee_code",
        "service__code",
        "pass_count",
        "amount_cents",
        "beneficiary_share_cents",
        "undone_at",
        "settled_at",
    )

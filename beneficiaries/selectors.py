"""Reads of beneficiaries and hand-overs (a prescriber sees only its own; sponsors never see a person)."""

import datetime

from django.db.models import Case, Count, F, Max, Min, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from beneficiaries.models import HandOver, LossDeclaration
from passnum import sql_text
from passnum.organisations.enums import OrganisationKind
from passnum.passes import codes
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import PassState
from passnum.passes.validity import is_expired


def hand_overs_of(organisation):
    return (
        HandOver.objects.for_organisation(organisation)
        .select_related("booklet", "beneficiary", "user")
        .order_by("-at", "-pk")
    )


def live_hand_over_of_booklet(booklet):
    return HandOver.objects.live().filter(booklet=booklet).select_related("beneficiary").first()


def losses_of(organisation):
    return LossDeclaration.objects.for_organisation(organisation).select_related("booklet", "hand_over")


def replaceable_loss(organisation, serial):
    """The loss declaration of a handed-out booklet, by its serial, still awaiting a replacement."""
    declaration = (
        losses_of(organisation)
        .filter(booklet__serial=serial, hand_over__isnull=False)
        .select_related("hand_over__beneficiary")
        .first()
    )
    if declaration is None or HandOver.objects.live().filter(replaces=declaration.hand_over).exists():
        return None
    return declaration


def hand_over_counts_by_age_band(programme):
    """Aggregates for reporting: live hand-overs of a programme by age band (survive the purge)."""
    return dict(
        HandOver.objects.live()
        .filter(booklet__programme=programme)
        .values_list("beneficiary__age_band")
        .annotate(n=Count("pk"))
    )


def hand_over_by_submission(organisation, submission_key):
    """The hand-over a form submission already made (a double click, a retry), or ``None``."""
    if not submission_key:
        return None
    return (
        HandOver.objects.for_organisation(organisation)
        .filter(submission_key=str(submission_key)[:64])
        .select_related("booklet")
        .first()
    )


# --- « Vérifier mon pass » (public) -------------------------------------------------------------

STATE_TEXT = {
    PassState.CREATED: "Ce pass n'est pas encore activé : il le sera quand un prescripteur vous remettra le carnet.",
    PassState.ACTIVE: "Ce pass est utilisable.",
    PassState.REDEEMED: "Ce pass a déjà été utilisé.",
    PassState.EXPIRED: "Ce pass a expiré : sa date de validité est passée.",
    PassState.CANCELLED: "Ce pass a été annulé (carnet déclaré perdu ou volé).",
}


SERIAL_NEEDS_SIGN_IN = (
    "Ce numéro est celui d'un carnet. Pour savoir ce qu'il reste sur votre carnet, tapez le code "
    "d'un de ses pass (13 caractères, par exemple ABCD-EFGH-JKMN-P) : il est imprimé sous le QR code. "
    "Seuls les guichets des prescripteurs, connectés, cherchent un carnet par son numéro."
)


def may_look_up_serials(*, user, organisation) -> bool:
    """Serials are sequential (anyone can count through them): only a signed-in counter (a
    member of a prescriber) or the operator may look a booklet up by its serial."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return organisation is not None and organisation.kind in (OrganisationKind.PRESCRIBER, OrganisationKind.OPERATOR)


def pass_or_booklet_status(text, *, serials_allowed: bool = False):
    """What « check my pass » shows for a typed pass code (and, when ``serials_allowed``, a
    booklet serial), with no personal data: a dict for the templates of /verifier/ and of a
    pass's QR page."""
    text = (text or "").strip()[:300]
    serial = pass_selectors.normalise_serial(text)
    if pass_selectors.SERIAL.match(serial):
        if not serials_allowed:
            return {"error": SERIAL_NEEDS_SIGN_IN}
        booklet = pass_selectors.booklet_by_serial(serial)
        if booklet is None:
            return {"error": "Aucun carnet ne porte ce numéro : vérifiez le numéro imprimé sur le carnet."}
        summary = pass_selectors.booklet_summary(booklet)
        return {"kind": "booklet", "serial": booklet.serial, "programme": booklet.programme.name, **summary}
    parsed = codes.parse(text)
    if not parsed.ok:
        if parsed.error == codes.MISTYPED:
            return {"error": codes.ERROR_MESSAGES[codes.MISTYPED]}
        return {
            "error": "Ce texte n'est ni un code de pass (13 caractères, par exemple ABCD-EFGH-JKMN-P) "
            "ni un numéro de carnet (par exemple GIR000123)."
        }
    item = pass_selectors.pass_by_code(parsed.code)
    if item is None and pass_selectors.is_typo(code=parsed.code):
        return {"error": codes.ERROR_MESSAGES[codes.MISTYPED]}
    if item is None:
        return {"error": "Ce code est bien formé mais ne correspond à aucun pass : vérifiez-le sur votre carnet."}
    summary = pass_selectors.booklet_summary(item.booklet)
    state = item.state
    today = timezone.localdate()
    if state == PassState.ACTIVE and is_expired(state=state, expires_on=item.expires_on, scanned_on=today, today=today):
        state = PassState.EXPIRED  # past its last day: the nightly expiry has not run yet, the truth is the same
    return {
        "kind": "pass",
        "code": codes.grouped(item.code),
        "state_text": STATE_TEXT.get(state, ""),
        "usable_pass": state == PassState.ACTIVE,
        "face_value_cents": item.face_value_cents,
        "programme": item.programme.name,
        "pass_valid_until": item.valid_until,
        **summary,
    }


# --- Reporting: a programme's live hand-overs, aggregated (read by sponsors/reporting) ----------
# Each figure is one statement: the nightly totals of the closed days (``HandOverMonthTotal``, see
# ``services.roll_up_totals``) UNION ALL the live hand-overs since ``HandOverRollup.closed_before``,
# added up here. Exact at every instant; without totals (the SQLite demo, before the first rollup)
# the second part is every hand-over.


def _programme_hand_overs(*, programme_id: int, start=None, end=None):
    hand_overs = HandOver.objects.live().filter(booklet__programme_id=programme_id)
    if start is not None:
        hand_overs = hand_overs.filter(at__gte=start)
    if end is not None:
        hand_overs = hand_overs.filter(at__lt=end)
    return hand_overs


_DAWN = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)  # before any hand-over
_DUSK = datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC)  # after any


def _department(commune: str):
    """The department of a commune's INSEE code (three characters overseas), in SQL."""
    return Case(When(**{f"{commune}__startswith": "97"}, then=Substr(commune, 1, 3)), default=Substr(commune, 1, 2))


def _month_start(moment):
    """``moment`` (aware, or None) as a local date if it is the first instant of a month, else ``False``."""
    if moment is None:
        return None
    local = timezone.localtime(moment)
    return local.date() if local.time() == datetime.time() and local.day == 1 else False


def _with_totals(*, programme_id: int, start, end, keys: dict, live_keys: dict, figures: dict, live_figures: dict):
    """Rows of the totals of the closed days in ``[start, end)`` and of the live hand-overs since,
    in one statement (every row live if a bound is not a month's start)."""
    from beneficiaries.models import HandOverMonthTotal, HandOverRollup

    live = _programme_hand_overs(programme_id=programme_id, start=start, end=end)
    first, last = _month_start(start), _month_start(end)
    live_rows = live.values(**live_keys).annotate(**live_figures).order_by()
    if first is False or last is False:
        return list(live_rows)
    totals = HandOverMonthTotal.objects.filter(programme_id=programme_id)
    if first is not None:
        totals = totals.filter(month__gte=first)
    if last is not None:
        totals = totals.filter(month__lt=last)
    closed_before = Subquery(HandOverRollup.objects.filter(pk=1).values("closed_before"))
    # A scalar subquery, run once before the scan: the index on ``at`` reads only the rows since.
    # Bounded on both sides, the planner expects few rows (no parallel scan of the table for them).
    since = live.filter(at__gte=Coalesce(closed_before, Value(_DAWN)), at__lt=_DUSK)
    since_rows = since.values(**live_keys).annotate(**live_figures).order_by()
    return list(totals.values(**keys).annotate(**figures).order_by().union(since_rows, all=True))


def programme_hand_overs_by_prescriber(*, programme_id: int, start=None, end=None) -> list[dict]:
    """``[{"prescriber_id", "prescriber_name", "count", "first", "last"}]`` — one statement."""
    rows = _with_totals(
        programme_id=programme_id,
        start=start,
        end=end,
        keys={"prescriber_id_": F("prescriber_id"), "prescriber_name": F("prescriber__name")},
        live_keys={"prescriber_id_": F("organisation_id"), "prescriber_name": F("organisation__name")},
        figures={"count": Sum("count"), "first": Min("first_at"), "last": Max("last_at")},
        live_figures={"count": Count("pk"), "first": Min("at"), "last": Max("at")},
    )
    prescribers = {}
    for row in rows:
        pk = row["prescriber_id_"]
        found = prescribers.setdefault(pk, {"prescriber_id": pk, "prescriber_name": row["prescriber_name"], "count": 0})
        found["count"] += int(row["count"])
        found["first"] = min(found.get("first", row["first"]), row["first"])
        found["last"] = max(found.get("last", row["last"]), row["last"])
    return sorted(prescribers.values(), key=lambda r: (r["prescriber_name"], r["prescriber_id"]))


def programme_hand_overs_by_department(*, programme_id: int, start=None, end=None) -> list[dict]:
    """Per department of the beneficiary's commune (three characters overseas): ``[{"department",
    "count"}]`` — one statement; the commune survives the purge of personal data."""
    rows = _with_totals(
        programme_id=programme_id,
        start=start,
        end=end,
        keys={"department_": F("department")},
        live_keys={"department_": _department("beneficiary__commune")},
        figures={"count": Sum("count")},
        live_figures={"count": Count("pk")},
    )
    departments = {}
    for row in rows:
        departments[row["department_"]] = departments.get(row["department_"], 0) + int(row["count"])
    return [{"department": code, "count": departments[code]} for code in sorted(departments)]


# --- Reporting within a territory and by the person's commune ---------------------------------
# New reads beside the ones above (whose bodies may be served by pre-computed totals).


def _of_people_in(hand_overs, territory: str | None):
    """Only the hand-overs to people living in ``territory``: a commune's INSEE code or a
    department's code (the person's commune code starts with it)."""
    if territory:
        hand_overs = hand_overs.filter(beneficiary__commune__startswith=territory)
    return hand_overs


def programme_hand_overs_in_territory(
    *, programme_id: int, breakdown: str, territory: str, start=None, end=None
) -> list[dict]:
    """The rows of ``programme_hand_overs_by_<breakdown>`` (``"prescriber"`` or ``"department"``:
    same keys, same order) for people living in ``territory`` — one GROUP BY."""
    hand_overs = _of_people_in(_programme_hand_overs(programme_id=programme_id, start=start, end=end), territory)
    if breakdown == "prescriber":
        return list(
            hand_overs.values(prescriber_id=F("organisation_id"), prescriber_name=F("organisation__name"))
            .annotate(count=Count("pk"), first=Min("at"), last=Max("at"))
            .order_by("prescriber_name", "prescriber_id")
        )
    if breakdown == "department":
        return list(
            hand_overs.annotate(department=_department("beneficiary__commune"))
            .values("department")
            .annotate(count=Count("pk"))
            .order_by("department")
        )
    raise ValueError(f"unknown breakdown {breakdown!r}")


def programme_hand_overs_by_commune(
    *, programme_id: int, start=None, end=None, territory: str | None = None
) -> list[dict]:
    """Per commune of the person (INSEE code): ``[{"commune", "count"}]`` — one GROUP BY; the
    commune survives the purge of personal data."""
    hand_overs = _of_people_in(_programme_hand_overs(programme_id=programme_id, start=start, end=end), territory)
    return list(hand_overs.values(commune=F("beneficiary__commune")).annotate(count=Count("pk")).order_by("commune"))


def programme_booklet_communes(*, programme_id: int):
    """For another app's query to join: the programme's booklets with a live hand-over and the
    commune of the person they were handed to (``booklet_id``, ``commune``; one row per booklet), as
    an unevaluated queryset."""
    return (
        HandOver.objects.live()
        .filter(booklet__programme_id=programme_id)
        .values("booklet_id", commune=F("beneficiary__commune"))
    )


# --- Reporting by audience and age band (read by sponsors/reporting) -----------------------------


def programme_hand_overs_by_audiences_and_age_band(
    *, programme_id: int, start=None, end=None, territory: str | None = None
) -> list[dict]:
    """Live hand-overs per list of audience codes and age band of the beneficiary (the band noted
    at the counter: the record keeps no birth date): ``[{"audiences": [codes], "age_band",
    "count"}]`` — one GROUP BY for both breakdowns, a few rows whatever the data's size (the lists
    are subsets of the programme's audiences), the same query on PostgreSQL and SQLite."""
    rows = (
        _of_people_in(_programme_hand_overs(programme_id=programme_id, start=start, end=end), territory)
        .values_list("beneficiary__audiences", "beneficiary__age_band")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return [{"audiences": list(audiences or []), "age_band": band, "count": count} for audiences, band, count in rows]


def scheme_hand_overs_by_month(*, start, end) -> list[dict]:
    """Live hand-overs of every programme made in ``[start, end)`` (datetimes), per month (Paris
    time): ``[{"period": date, "count"}]``, oldest first — one GROUP BY, no personal data."""
    from django.db.models.functions import TruncMonth

    return list(
        HandOver.objects.live()
        .filter(at__gte=start, at__lt=end)
        .annotate(period=TruncMonth("at", tzinfo=timezone.get_current_timezone()))
        .values("period")
        .annotate(count=Count("pk"))
        .order_by("period")
    )


def hand_over_export_rows(*, start=None, end=None, programme_id: int | None = None, as_text: bool = False):
    """Every hand-over (undone ones too) made in ``[start, end)``, oldest first, as tuples for the
    operator's row-level export — without personal data: the person's department (not their
    commune) and age band, never their name, contact, commune or booklet serial, nor the free
    text of an exception. ``as_text`` (PostgreSQL only): each row as its CSV line, written by the
    database (``passnum.sql_text``)."""
    commune = F("beneficiary__commune")
    department = Case(
        When(beneficiary__commune__startswith="97", then=Substr(commune, 1, 3)),
        default=Substr(commune, 1, 2),
    )
    hand_overs = HandOver.objects.all()
    if programme_id is not None:
        hand_overs = hand_overs.filter(booklet__programme_id=programme_id)
    if start is not None:
        hand_overs = hand_overs.filter(at__gte=start)
    if end is not None:
        hand_overs = hand_overs.filter(at__lt=end)
    hand_overs = hand_overs.annotate(department=department).order_by("at", "pk")
    if as_text:
        line = sql_text.csv_line(
            sql_text.text("pk"),
            sql_text.local_datetime_text("at"),
            sql_text.text("booklet__programme_id"),
            sql_text.csv_cell("booklet__programme__name"),
            sql_text.text("organisation__siret"),
            sql_text.csv_cell("organisation__name"),
            sql_text.text("department"),
            sql_text.text("beneficiary__age_band"),
            sql_text.yes_no_text("is_exception"),
            sql_text.local_datetime_text("undone_at"),
        )
        return hand_overs.values_list(line)
    return hand_overs.values_list(
        "pk",
        "at",
        "booklet__programme_id",
        "booklet__programme__name",
        "organisation__siret",
        "organisation__name",
        "department",
        "beneficiary__age_band",
        "is_exception",
        "undone_at",
    )

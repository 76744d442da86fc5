"""Reads of the pass instrument."""

import base64
import datetime
import json
import re
from collections.abc import Iterable
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from passnum.passes import codes
from passnum.passes.models import Booklet, JournalKind, Pass, PassJournal, PassState, PrintRun, StockMovement
from passnum.passes.printing import Design
from passnum.territories import selectors as territory_selectors


def logo_data_url(field_file):
    """The logo as a ``data:`` URL: WeasyPrint never fetches from the object store, and the design
    (cached per worker, keyed on it) stays the same from one chunk to the next."""
    content_type = "image/png" if field_file.name.lower().endswith(".png") else "image/jpeg"
    with field_file.open("rb") as handle:
        return f"data:{content_type};base64,{base64.b64encode(handle.read()).decode()}"


def design_for(programme):
    """The printed design of a programme (its cache key changes whenever the programme does)."""
    territory = territory_selectors.territory_label(
        departments=list(programme.departments or []), communes=list(programme.communes or [])
    )
    contact = " · ".join(x for x in (programme.contact_name, programme.contact_email, programme.contact_phone) if x)
    logo_url = ""
    if programme.logo:
        try:
            logo_url = programme.logo.path and f"file://{programme.logo.path}"
        except NotImplementedError:  # an object store: the image itself, not a short-lived URL
            logo_url = logo_data_url(programme.logo)
    return Design(
        key=f"{programme.pk}:{programme.updated_at.isoformat()}",
        programme_name=programme.name,
        sponsor_name=programme.sponsor.name,
        face_value_cents=programme.face_value_cents,
        passes_per_booklet=programme.passes_per_booklet,
        valid_until=programme.valid_until,
        site_url=settings.SITE_URL,
        territory=territory,
        contact=contact,
        logo_url=logo_url,
    )


def booklets_for_chunk(run, chunk):
    """``[(serial, [codes in position order])]`` of the booklets of a chunk of ``run``."""
    booklets = list(
        Booklet.objects.filter(order_id=run.order_id)
        .order_by("number")
        .values_list("pk", "serial")[chunk * run.chunk_size : (chunk + 1) * run.chunk_size]
    )
    codes = {}
    for booklet_id, code in (
        Pass.objects.filter(booklet_id__in=[pk for pk, _ in booklets])
        .order_by("position")
        .values_list("booklet_id", "code")
    ):
        codes.setdefault(booklet_id, []).append(code)
    return [(serial, codes[pk]) for pk, serial in booklets]


def print_runs_of(order):
    return PrintRun.objects.filter(order=order).prefetch_related("files")


def booklet_counts(booklets):
    """Booklets by state: issued, allocated, handed out, cancelled."""
    return booklets.aggregate(
        total=Count("pk"),
        created=Count("pk", filter=Q(state=Booklet.State.CREATED)),
        allocated=Count("pk", filter=Q(state=Booklet.State.ALLOCATED)),
        handed_out=Count("pk", filter=Q(state=Booklet.State.HANDED_OUT)),
        cancelled=Count("pk", filter=Q(state=Booklet.State.CANCELLED)),
    )


def value_by_state(programme):
    """Conservation: value issued per pass state, in cents."""
    rows = Pass.objects.filter(programme=programme).values("state").annotate(value=Sum("face_value_cents"))
    result = dict.fromkeys(PassState.values, 0)
    for row in rows:
        result[row["state"]] = row["value"]
    return result


def value_by_programme_and_state(*, programme=None) -> dict[int, dict[str, tuple[int, int]]]:
    """For the ledger: ``{programme_id: {state: (passes, cents)}}`` (one query)."""
    passes = Pass.objects.all() if programme is None else Pass.objects.filter(programme=programme)
    result = {}
    rows = passes.values("programme_id", "state").annotate(n=Count("pk"), value=Sum("face_value_cents"))
    for row in rows.order_by():
        result.setdefault(row["programme_id"], {})[row["state"]] = (row["n"], row["value"] or 0)
    return result


def unpaid_passes_past(*, last_expires_on) -> dict[int, tuple[int, int]]:
    """Passes of orders never paid whose ``expires_on`` is on or before ``last_expires_on``:
    ``{programme_id: (passes, cents)}``. They were never money: the expiry leaves them
    ``created`` and reports them apart."""
    rows = (
        Pass.objects.filter(state=PassState.CREATED, expires_on__lte=last_expires_on)
        .exclude(booklet__order__status="paid")
        .values("programme_id")
        .annotate(n=Count("pk"), value=Sum("face_value_cents"))
        .order_by()
    )
    return {row["programme_id"]: (row["n"], row["value"] or 0) for row in rows}


def programmes_with_expired_passes() -> set[int]:
    return set(Pass.objects.filter(state=PassState.EXPIRED).values_list("programme_id", flat=True).distinct())


def booklets_of_programme(programme):
    return Booklet.objects.filter(programme=programme)


def booklet_counts_and_usage(*, booklets) -> dict[str, int]:
    """``booklet_counts`` and how far booklets were used — ``started`` (some passes redeemed, not
    all) and ``used_up`` (every pass redeemed) — in one query: each booklet with its state and
    its passes counted (a booklet without passes still counts), then counted in SQL."""
    per_booklet = (
        booklets.values("pk", "state")
        .annotate(total_passes=Count("passes"), used=Count("passes", filter=Q(passes__state=PassState.REDEEMED)))
        .order_by()
    )
    return per_booklet.aggregate(
        total=Count("pk"),
        created=Count("pk", filter=Q(state=Booklet.State.CREATED)),
        allocated=Count("pk", filter=Q(state=Booklet.State.ALLOCATED)),
        handed_out=Count("pk", filter=Q(state=Booklet.State.HANDED_OUT)),
        cancelled=Count("pk", filter=Q(state=Booklet.State.CANCELLED)),
        started=Count("pk", filter=Q(used__gt=0, used__lt=F("total_passes"))),
        used_up=Count("pk", filter=Q(used__gt=0, used=F("total_passes"))),
    )


def programme_stock_by_prescriber(*, programme_id: int, idle_since) -> list[dict]:
    """Per prescriber holding booklets of a programme: ``[{"prescriber_id", "prescriber_name",
    "in_stock", "idle"}]``; ``idle``: booklets in stock that no stock movement touched since
    ``idle_since`` (a datetime) — one GROUP BY."""
    recent = StockMovement.objects.filter(booklet_id=OuterRef("pk"), at__gte=idle_since)
    return list(
        Booklet.objects.filter(programme_id=programme_id, state=Booklet.State.ALLOCATED, holder__isnull=False)
        .annotate(moved_lately=Exists(recent))
        .values(prescriber_id=F("holder_id"), prescriber_name=F("holder__name"))
        .annotate(in_stock=Count("pk"), idle=Count("pk", filter=Q(moved_lately=False)))
        .order_by("prescriber_name", "prescriber_id")
    )


# --- Counter of prescribers and "check my pass" (read by prescribers and beneficiaries) -------

SERIAL = re.compile(r"^[A-Z]{2,6}\d{6}$")


def normalise_serial(text):
    """What a person typed or a scanner sent → a candidate booklet serial (``GIR000001``)."""
    return re.sub(r"[\s\-_.]+", "", str(text or "")).upper()[:40]


def booklet_by_serial(serial, *, for_update=False):
    """The booklet with this serial (any case, spaces and dashes ignored), with its order and
    programme, or ``None``. ``for_update`` locks the booklet row (inside a transaction)."""
    serial = normalise_serial(serial)
    if not SERIAL.match(serial):
        return None
    queryset = Booklet.objects.select_related("order", "programme")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.filter(serial=serial).first()


def booklets_held_by(organisation):
    """The booklets a prescriber holds (in stock, handed out or cancelled)."""
    if organisation is None:
        return Booklet.objects.none()
    return Booklet.objects.filter(holder=organisation)


def stock_by_programme(organisation):
    """Per programme of the booklets a prescriber holds: in stock, handed out, cancelled (lost)."""
    return list(
        booklets_held_by(organisation)
        .values("programme_id", "programme__name", "programme__prefix", "programme__valid_until")
        .annotate(
            in_stock=Count("pk", filter=Q(state=Booklet.State.ALLOCATED)),
            handed_out=Count("pk", filter=Q(state=Booklet.State.HANDED_OUT)),
            cancelled=Count("pk", filter=Q(state=Booklet.State.CANCELLED)),
        )
        .order_by("programme__name", "programme_id")
    )


def booklet_summary(booklet):
    """Passes of a booklet by state, the value still usable (cents) and the validity dates."""
    rows = booklet.passes.values("state").annotate(n=Count("pk"), value=Sum("face_value_cents"))
    counts = dict.fromkeys(PassState.values, 0)
    usable_cents = 0
    for row in rows:
        counts[row["state"]] = row["n"]
        if row["state"] == PassState.ACTIVE:
            usable_cents = row["value"] or 0
    first = booklet.passes.order_by("position").values("valid_until", "expires_on").first() or {}
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "usable": counts[PassState.ACTIVE],
        "usable_cents": usable_cents,
        "used": counts[PassState.REDEEMED],
        "valid_until": first.get("valid_until"),
        "expires_on": first.get("expires_on"),
    }


def booklet_has_used_passes(booklet):
    return booklet.passes.filter(state=PassState.REDEEMED).exists()


def pass_by_code(code):
    """The pass with this compact code (see ``codes.parse``), with its booklet, or ``None``."""
    return Pass.objects.select_related("booklet", "programme").filter(code=code).first()


# The redemption's hot path: one statement, in plain SQL (the ORM would spend more time writing
# it than PostgreSQL answering it), with the booklet's serial and the programme's rules.
_REDEMPTION_SQL = """
SELECT pass.id, pass.booklet_id, pass.programme_id, pass.position, pass.code, pass.face_value_cents,
       pass.state, pass.valid_until, pass.expires_on,
       booklet.serial, programme.name, programme.updated_at, programme.departments, programme.communes
FROM passes_pass pass
JOIN passes_booklet booklet ON booklet.id = pass.booklet_id
JOIN sponsors_programme programme ON programme.id = pass.programme_id
WHERE pass.code IN ({placeholders})
ORDER BY pass.id
{lock}
"""
_PASS_FIELDS = ["id", "booklet_id", "programme_id", "position", "code", "face_value_cents", "state", "valid_until",
                "expires_on"]  # fmt: skip
REDEMPTION_PASS_COLUMNS = len(_PASS_FIELDS) + 5


def _json_list(value):
    return json.loads(value) if isinstance(value, str) else list(value or [])


def redemption_passes_sql(codes, *, for_update=True):
    """``(sql, params)`` of the passes with these compact codes (``REDEMPTION_PASS_COLUMNS``
    columns, in id order), locked or not, for a caller that reads them with other rows in one
    statement; ``passes_from_rows`` makes the passes."""
    lock = "FOR UPDATE OF pass" if for_update and connection.features.has_select_for_update_of else ""
    return _REDEMPTION_SQL.format(placeholders=", ".join(["%s"] * len(codes)), lock=lock), list(codes)


class RedemptionBooklet(NamedTuple):
    pk: int
    serial: str


class RedemptionProgramme(NamedTuple):
    """What the redemption checks of a programme (its eligible services are cached by
    ``updated_at``)."""

    pk: int
    name: str
    updated_at: datetime.datetime
    departments: list
    communes: list


class RedemptionPass(NamedTuple):
    """A pass as the redemption reads it: plain values (no model instance on the hot path)."""

    id: int
    booklet_id: int
    programme_id: int
    position: int
    code: str
    face_value_cents: int
    state: str
    valid_until: datetime.date
    expires_on: datetime.date
    booklet: RedemptionBooklet
    programme: RedemptionProgramme

    @property
    def pk(self):
        return self.id


def passes_from_rows(rows):
    """Rows of ``redemption_passes_sql`` → ``RedemptionPass`` values, each with its booklet
    (serial) and programme (name, territory, ``updated_at``)."""
    passes = []
    for row in rows:
        values = list(row[: len(_PASS_FIELDS)])
        for index in (-2, -1):  # valid_until, expires_on: text from SQLite's raw SQL
            if isinstance(values[index], str):
                values[index] = datetime.date.fromisoformat(values[index])
        serial, name, updated_at, departments, communes = row[len(_PASS_FIELDS) :]
        booklet = RedemptionBooklet(values[1], serial)
        programme = RedemptionProgramme(
            values[2], name, _aware(updated_at), _json_list(departments), _json_list(communes)
        )
        passes.append(RedemptionPass(*values, booklet, programme))
    return passes


def _aware(value):
    # SQLite gives text back from raw SQL (the ORM would have parsed it).
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
        return value if value is None or value.tzinfo else value.replace(tzinfo=datetime.UTC)
    return value


def passes_for_redemption(codes, *, for_update=True):
    """The passes with these compact codes, in id order (``RedemptionPass``, with their booklet and
    programme). Locked (``FOR UPDATE``
    of the pass rows only, on PostgreSQL) in that fixed order, so that two redemptions sharing
    passes queue up instead of deadlocking; call inside a transaction."""
    if not codes:
        return []
    sql, params = redemption_passes_sql(codes, for_update=for_update)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return passes_from_rows(cursor.fetchall())


def hand_out_time(pass_ids):
    """When the passes were last handed out (activated), or ``None``."""
    return (
        PassJournal.objects.filter(pass_ref_id__in=pass_ids, kind=JournalKind.ACTIVATED)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )


def may_download_print_files(*, user, membership) -> bool:
    """Print files hold live codes: the operator's staff, or an admin or finance member of the
    sponsor who has a second factor (allauth then asks for it at every sign-in)."""
    from passnum.accounts.mfa import has_mfa
    from passnum.organisations.enums import OrganisationKind, Role

    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return has_mfa(user)
    return (
        membership is not None
        and membership.organisation.kind == OrganisationKind.SPONSOR
        and membership.role in (Role.ADMIN, Role.FINANCE)
        and has_mfa(user)
    )


LEGACY_LOOKUP_CHUNK = 5000


def legacy_codes_among(*, codes: Iterable[str]) -> set[str]:
    """Those of ``codes`` (compact) that passes were issued with, under the old mod-37 check."""
    codes = list(codes)
    found = set()
    for start in range(0, len(codes), LEGACY_LOOKUP_CHUNK):
        chunk = codes[start : start + LEGACY_LOOKUP_CHUNK]
        found.update(Pass.objects.filter(legacy_check=True, code__in=chunk).values_list("code", flat=True))
    return found


def is_typo(*, code: str) -> bool:
    """A code (compact) that no pass has: a typo (``code_mistyped``) rather than an unknown pass?
    One query, asked only after a look-up found nothing (see ``codes`` for the rule)."""
    return codes.typo_of_issued_code(code, issued_with_legacy_check=lambda near: legacy_codes_among(codes=near))


def any_legacy_code() -> bool:
    return Pass.objects.filter(legacy_check=True).exists()


NOT_HANDED_OUT_PAID_LABEL = "Payé, pas encore remis à un bénéficiaire"
NOT_HANDED_OUT_UNPAID_LABEL = "Pas encore remis à un bénéficiaire, commande pas encore payée"


def pass_state_label(*, pass_id: int, state: str) -> str:
    """The state of a pass in words. A pass not yet handed out also says whether its order is
    paid (paid passes are money: they are refunded if they expire unused)."""
    if state != PassState.CREATED:
        return PassState(state).label
    paid = Pass.objects.filter(pk=pass_id, booklet__order__status="paid").exists()
    return NOT_HANDED_OUT_PAID_LABEL if paid else NOT_HANDED_OUT_UNPAID_LABEL


# --- The operator's overview of the whole scheme (read by passnum/overview.py) ----------------


def scheme_pass_figures() -> dict[str, tuple[int, int]]:
    """Every programme's passes, as the operator follows them: ``{"sold", "handed_out", "used",
    "expired", "active": (passes, cents)}`` — one query. Sold: their order is paid; handed out:
    their booklet was handed out (a redeemed pass was too, even if its booklet was lost later)."""
    figures = {
        "sold": Q(booklet__order__status="paid"),
        "handed_out": Q(booklet__state=Booklet.State.HANDED_OUT) | Q(state=PassState.REDEEMED),
        "used": Q(state=PassState.REDEEMED),
        "expired": Q(state=PassState.EXPIRED),
        "active": Q(state=PassState.ACTIVE),
    }
    aggregates = {}
    for key, condition in figures.items():
        aggregates[f"{key}_n"] = Count("pk", filter=condition)
        aggregates[f"{key}_cents"] = Sum("face_value_cents", filter=condition)
    row = Pass.objects.aggregate(**aggregates)
    return {key: (row[f"{key}_n"] or 0, row[f"{key}_cents"] or 0) for key in figures}


def active_passes_by_programme(*, programme_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Passes still usable (active) per programme: ``{programme_id: (passes, cents)}`` — one GROUP BY."""
    rows = (
        Pass.objects.filter(programme_id__in=list(programme_ids), state=PassState.ACTIVE)
        .values("programme_id")
        .annotate(n=Count("pk"), value=Sum("face_value_cents"))
        .order_by()
    )
    return {row["programme_id"]: (row["n"], row["value"] or 0) for row in rows}

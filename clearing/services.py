"""Use cases of clearing: the monthly close, voiding a statement, adjustments, status moves.

The close is set-based: per site, one transaction takes the site's settlement lock (the undo
takes it too), then copies the site's live, unsettled redemptions into statement lines with one
INSERT … SELECT and marks them settled with one UPDATE. A redemption has at most one live line
(partial unique index), so a rerun, two closes at once or a close killed half-way pay nothing
twice. Every refusal is a ``DomainError`` with a French message, raised before any write.
"""

import dataclasses
import datetime
import io
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clearing import selectors
from clearing.models import (
    Adjustment,
    CreditNote,
    ExpiryAlert,
    Statement,
    StatementLine,
    StatementStatus,
    StatementStatusChange,
    SubscriptionInvoice,
    SubscriptionNetting,
)
from clearing.money import euros
from mediators.qualification.models import Site
from mediators.redemption.settlement import (
    due_subscriptions,
    lock_site_settlement,
    settle_redemptions,
    settled_redemptions_cte,
    sites_with_unsettled_redemptions,
    unpaid_subscriptions,
    unsettle_redemptions,
    unsettled_redemptions,
)
from passnum import mail
from passnum.audit.services import record, record_many
from passnum.errors import DomainError
from passnum.numbering.models import Series
from passnum.numbering.services import next_number
from passnum.outbox import submit_on_commit
from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from passnum.passes import validity
from passnum.passes.models import PassState
from sponsors import selectors as sponsor_selectors

PARIS = ZoneInfo("Europe/Paris")
MAX_ADJUSTMENT_CENTS = 100_000_00

# Status moves a statement may make (payment batches will drive the middle ones).
TRANSITIONS = {
    StatementStatus.ISSUED: {StatementStatus.IN_BATCH, StatementStatus.VOIDED},
    StatementStatus.IN_BATCH: {StatementStatus.PAID, StatementStatus.REJECTED},
    StatementStatus.REJECTED: {StatementStatus.TO_PAY, StatementStatus.VOIDED},
    StatementStatus.TO_PAY: {StatementStatus.IN_BATCH, StatementStatus.VOIDED},
    # Paid, then the bank returns the money (closed or wrong account): to pay again, once fixed.
    StatementStatus.PAID: {StatementStatus.REJECTED},
    StatementStatus.VOIDED: set(),
}


class ClearingError(DomainError):
    code = "clearing_refused"


# --- months ----------------------------------------------------------------------------------


def read_month(month: "datetime.date | str") -> datetime.date:
    """``2026-10`` or a date → the first day of that month."""
    if isinstance(month, datetime.date):
        return month.replace(day=1)
    try:
        year, number = (int(part) for part in str(month).strip().split("-"))
        return datetime.date(year, number, 1)
    except (TypeError, ValueError):
        raise ClearingError(
            "Mois invalide : utilisez le format AAAA-MM, par exemple 2026-10.", code="month_invalid", field="month"
        ) from None


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Start and end (excluded) of a month in Paris time, as aware datetimes."""
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return (
        datetime.datetime.combine(month, datetime.time(), tzinfo=PARIS),
        datetime.datetime.combine(following, datetime.time(), tzinfo=PARIS),
    )


def previous_month(today: datetime.date) -> datetime.date:
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def check_month_ended(month: datetime.date, now: datetime.datetime) -> None:
    if now < month_bounds(month)[1]:
        raise ClearingError(
            f"Le mois {month:%m/%Y} n'est pas terminé : il se clôt à partir du 1er du mois suivant.",
            code="month_not_ended",
            status=409,
        )


# --- the monthly close -----------------------------------------------------------------------


@dataclasses.dataclass
class CloseResult:
    month: datetime.date
    numbers: list[str]

    @property
    def message(self) -> str:
        if not self.numbers:
            return f"Mois {self.month:%m/%Y} déjà clos : aucun relevé à émettre."
        return f"Mois {self.month:%m/%Y} clos : {len(self.numbers)} relevé(s) émis ({', '.join(self.numbers)})."


def close_month(*, month: "datetime.date | str", now: datetime.datetime | None = None) -> CloseResult:
    """Issues one statement per site with live unsettled redemptions redeemed before the end of
    ``month`` (earlier ones too: those of a voided statement) or pending adjustments.

    Safe to rerun and to run twice at once: a site that already has a statement for the month is
    skipped, under its lock. A month not yet ended is refused (``month_not_ended``).
    """
    month = read_month(month)
    now = now or timezone.now()
    check_month_ended(month, now)
    end = month_bounds(month)[1]
    site_ids = set(sites_with_unsettled_redemptions(before=end))
    # Read once for the whole close rather than twice per site (2,000 sites: 4,000 round trips).
    # An adjustment added after this point waits for the next statement, as it would a second later.
    with_adjustments = set(Adjustment.objects.filter(statement__isnull=True).values_list("site_id", flat=True))
    netting = set(SubscriptionNetting.objects.filter(enabled=True).values_list("site_id", flat=True))
    site_ids |= with_adjustments
    numbers = []
    for site in Site.objects.filter(pk__in=site_ids).select_related("organisation").order_by("pk"):
        statement = close_site_month(
            site=site,
            month=month,
            now=now,
            pending_adjustments=site.pk in with_adjustments,
            nets_subscription=site.pk in netting,
        )
        if statement is not None:
            numbers.append(statement.number)
    pending_pdfs = list(
        Statement.objects.filter(month=month, pdf="")
        .exclude(status=StatementStatus.VOIDED)
        .values_list("pk", flat=True)
    )
    if pending_pdfs:
        from clearing.tasks import render_statement_pdfs

        submit_on_commit(render_statement_pdfs, pending_pdfs)
    return CloseResult(month=month, numbers=numbers)


LINE_COLUMNS = ["statement_id", "live", "redemption_id", "service_id", "point_of_presence_id", "programme_id"] + [
    "pass_count",
    "amount_cents",
    "redeemed_at",
]


def _insert_lines(statement: Statement, redemptions) -> int:
    """INSERT … SELECT: one line per redemption of ``redemptions``, in one statement (SQLite)."""
    source = redemptions.order_by().values_list(
        "id", "service_id", "point_of_presence_id", "programme_id", "pass_count", "amount_cents", "redeemed_at"
    )
    select_sql, params = source.query.sql_with_params()
    table = connection.ops.quote_name(StatementLine._meta.db_table)
    # Only quoted names and Django's own compiled SELECT go into the text; values are parameters.
    sql = f"INSERT INTO {table} ({', '.join(LINE_COLUMNS)}) SELECT %s, %s, r.* FROM ({select_sql}) AS r"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [statement.pk, True, *params])
        return cursor.rowcount


def _settle_into_lines(statement: Statement, *, site_id: int, before, now) -> tuple[int, int]:
    """Marks the site's redemptions settled and copies them into ``statement``'s lines:
    ``(inserted, settled)``. On PostgreSQL one statement (``UPDATE … RETURNING`` in a ``WITH``
    feeding the ``INSERT``): each redemption row is read and written once. Elsewhere (SQLite, which
    has no UPDATE in a WITH) an ``INSERT … SELECT`` then an ``UPDATE``."""
    if connection.vendor != "postgresql":
        inserted = _insert_lines(statement, unsettled_redemptions(site_id=site_id, before=before))
        return inserted, settle_redemptions(site_id=site_id, before=before, now=now)
    settled_sql, params = settled_redemptions_cte(site_id=site_id, before=before, now=now)
    table = connection.ops.quote_name(StatementLine._meta.db_table)
    sql = (
        f"WITH settled AS ({settled_sql}) INSERT INTO {table} ({', '.join(LINE_COLUMNS)}) "  # noqa: S608
        "SELECT %s, %s, settled.* FROM settled"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, statement.pk, True])
        return cursor.rowcount, cursor.rowcount


@transaction.atomic
def close_site_month(
    *,
    site: Site,
    month: datetime.date,
    now: datetime.datetime,
    pending_adjustments: bool = True,
    nets_subscription: bool | None = None,
) -> Statement | None:
    """The statement of one site for ``month``, or None when there is nothing to pay or the site
    already has one. One transaction: number, statement, lines, settlement, adjustments, log.

    ``pending_adjustments=False`` and ``nets_subscription`` let ``close_month`` say what it read
    once for every site; left alone, both are read here."""
    lock_site_settlement(organisation_id=site.organisation_id)
    if Statement.objects.filter(site=site, month=month).exclude(status=StatementStatus.VOIDED).exists():
        return None
    end = month_bounds(month)[1]
    redemptions = unsettled_redemptions(site_id=site.pk, before=end)
    totals = redemptions.aggregate(count=Count("pk"), cents=Sum("amount_cents"), passes=Sum("pass_count"))
    count, redemptions_cents = totals["count"], totals["cents"] or 0
    adjustments = (
        list(Adjustment.objects.select_for_update().filter(site=site, statement__isnull=True))
        if pending_adjustments
        else []
    )
    adjustments_cents = sum(a.amount_cents for a in adjustments)
    if redemptions_cents + adjustments_cents < 0:
        adjustments, adjustments_cents = [], 0  # they wait for a statement that can carry them
    if not count and not adjustments:
        return None
    invoice = _subscription_to_net(
        site=site,
        month=month,
        now=now,
        available_cents=redemptions_cents + adjustments_cents,
        nets_subscription=nets_subscription,
    )
    netted_cents = invoice.total_cents if invoice is not None else 0
    statement = Statement.objects.create(
        number=next_number(series=Series.REL, year=timezone.localtime(now, PARIS).year),
        year=timezone.localtime(now, PARIS).year,
        site=site,
        month=month,
        issued_at=now,
        site_name=site.organisation.name,
        site_siret=site.organisation.siret or "",
        redemption_count=count,
        pass_count=totals["passes"] or 0,
        redemptions_cents=redemptions_cents,
        adjustments_cents=adjustments_cents,
        subscription_netted_cents=netted_cents,
        subscription_invoice=invoice,
        total_cents=redemptions_cents + adjustments_cents - netted_cents,
    )
    inserted, settled = _settle_into_lines(statement, site_id=site.pk, before=end, now=now)
    if not inserted == settled == count:  # impossible under the lock; never issue a wrong total
        raise ClearingError(
            "Les encaissements ont changé pendant la clôture : relancez-la.", code="close_conflict", status=409
        )
    Adjustment.objects.filter(pk__in=[a.pk for a in adjustments]).update(statement=statement)
    if invoice is not None:
        from mediators.qualification.services import mark_subscription_paid

        mark_subscription_paid(subscription=invoice.subscription, by=None)
    StatementStatusChange.objects.create(statement=statement, to_status=StatementStatus.ISSUED, at=now)
    record(
        "clearing.statement.issued",
        organisation=site.organisation,
        target=statement,
        after={"month": f"{month:%Y-%m}", "redemptions": count, "total_cents": statement.total_cents},
    )
    return statement


# --- statuses and voids ----------------------------------------------------------------------


def check_transition(statement: Statement, to_status: str) -> None:
    if to_status not in TRANSITIONS.get(statement.status, set()):
        raise ClearingError(
            f"Le relevé {statement.number} est « {statement.get_status_display()} » : il ne peut pas passer à "
            f"« {StatementStatus(to_status).label} ».",
            code="statement_status_refused",
            status=409,
        )


@transaction.atomic
def change_status(*, statement: Statement, to_status: str, by=None, reason: str = "", request=None) -> Statement:
    """Moves a statement to ``to_status`` and logs the move (append-only)."""
    statement = Statement.objects.select_for_update().select_related("site__organisation").get(pk=statement.pk)
    check_transition(statement, to_status)
    from_status = statement.status
    statement.status = to_status
    statement.save(update_fields=["status"])
    StatementStatusChange.objects.create(
        statement=statement, from_status=from_status, to_status=to_status, reason=reason, by=by, at=timezone.now()
    )
    record(
        "clearing.statement.status",
        actor=by,
        request=request,
        organisation=statement.site.organisation,
        target=statement,
        before={"status": from_status},
        after={"status": to_status, "reason": reason},
    )
    return statement


@transaction.atomic
def change_statuses(
    *, statements: list[Statement], to_status: str, by=None, reason: str = "", request=None
) -> list[Statement]:
    """``change_status`` for many statements at once (a payment batch): locked in id order, every
    move checked before any write, then one UPDATE, one INSERT of the log and one of the audit,
    whatever their number."""
    ids = sorted({statement.pk for statement in statements})
    locked = list(
        Statement.objects.select_for_update(of=("self",))
        .select_related("site__organisation")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    for statement in locked:
        check_transition(statement, to_status)
    if not locked:
        return locked
    now = timezone.now()
    Statement.objects.filter(pk__in=ids).update(status=to_status)
    StatementStatusChange.objects.bulk_create(
        [
            StatementStatusChange(
                statement=statement, from_status=statement.status, to_status=to_status, reason=reason, by=by, at=now
            )
            for statement in locked
        ]
    )
    record_many(
        "clearing.statement.status",
        actor=by,
        request=request,
        entries=[
            {
                "organisation": statement.site.organisation,
                "target": statement,
                "before": {"status": statement.status},
                "after": {"status": to_status, "reason": reason},
            }
            for statement in locked
        ],
    )
    for statement in locked:
        statement.status = to_status
    return locked


def check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ClearingError("Indiquez le motif.", code="reason_required", field="reason")
    return reason


@transaction.atomic
def void_statement(*, statement: Statement, reason: str, by, request=None) -> Statement:
    """The operator voids a statement: it keeps its number and shows as voided; its redemptions
    are unsettled (their lines stay, no longer live) and its adjustments wait again, so the next
    close pays them."""
    reason = check_reason(reason)
    lock_site_settlement(organisation_id=statement.site.organisation_id)
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    check_transition(statement, StatementStatus.VOIDED)
    live_lines = StatementLine.objects.filter(statement=statement, live=True)
    unsettle_redemptions(redemption_ids=live_lines.values("redemption_id"))
    live_lines.update(live=False)
    Adjustment.objects.filter(statement=statement).update(statement=None)
    if statement.subscription_netted_cents:
        # The subscription was paid by this statement: its redemptions will be paid in full again,
        # so the next statement takes the subscription back.
        Adjustment.objects.create(
            site_id=statement.site_id,
            amount_cents=-statement.subscription_netted_cents,
            reason=f"Abonnement (facture {statement.subscription_invoice.number}) déduit du relevé annulé "
            f"{statement.number}",
            created_by=by,
            created_at=timezone.now(),
        )
    return change_status(statement=statement, to_status=StatementStatus.VOIDED, by=by, reason=reason, request=request)


# --- adjustments -----------------------------------------------------------------------------


def next_statement_cents(*, site: Site, extra_cents: int = 0) -> int:
    """What the site's next statement would pay today: its live unsettled redemptions and its
    pending adjustments (plus ``extra_cents``)."""
    redeemed = unsettled_redemptions(site_id=site.pk)
    pending = Adjustment.objects.filter(site=site, statement__isnull=True)
    return (
        (redeemed.aggregate(total=Sum("amount_cents"))["total"] or 0)
        + (pending.aggregate(total=Sum("amount_cents"))["total"] or 0)
        + extra_cents
    )


def check_adjustment(*, site: Site, amount_cents: int, reason: str) -> str:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents == 0:
        raise ClearingError("Indiquez un montant différent de zéro.", code="adjustment_amount_invalid", field="amount")
    if abs(amount_cents) > MAX_ADJUSTMENT_CENTS:
        raise ClearingError(
            f"Une régularisation ne dépasse pas {euros(MAX_ADJUSTMENT_CENTS)}.",
            code="adjustment_amount_invalid",
            field="amount",
        )
    reason = check_reason(reason)
    if next_statement_cents(site=site, extra_cents=amount_cents) < 0:
        raise ClearingError(
            "Cette régularisation rendrait négatif le prochain relevé de la structure : réduisez-la ou "
            "attendez que ses encaissements la couvrent.",
            code="adjustment_makes_statement_negative",
            field="amount",
        )
    return reason


@transaction.atomic
def add_adjustment(*, site: Site, amount_cents: int, reason: str, by, request=None) -> Adjustment:
    """A correction (may be negative) carried on the site's next statement; audited."""
    lock_site_settlement(organisation_id=site.organisation_id)  # the close cannot carry half of it
    reason = check_adjustment(site=site, amount_cents=amount_cents, reason=reason)
    adjustment = Adjustment.objects.create(
        site=site, amount_cents=amount_cents, reason=reason, created_by=by, created_at=timezone.now()
    )
    record(
        "clearing.adjustment.added",
        actor=by,
        request=request,
        organisation=site.organisation,
        target=adjustment,
        after={"amount_cents": amount_cents, "reason": reason},
    )
    return adjustment


def attach_pdf(*, statement: Statement, name: str, content: bytes) -> bool:
    """Stores the rendered PDF (the only field of an issued statement that may change, with its
    status). False when another worker stored it first: the caller then sends nothing."""
    from django.core.files.base import ContentFile

    statement.pdf.save(name, ContentFile(content), save=False)
    return bool(Statement.objects.filter(pk=statement.pk, pdf="").update(pdf=statement.pdf.name))


# --- expiry and credit notes

ALERT_THRESHOLDS = (30, 15, 7)  # days before a programme's end
# Key of the advisory lock that queues two expiry runs behind each other ("PNEXPIRY").
EXPIRY_LOCK_KEY = 0x504E_4558_5049_5259


class CreditNoteRefused(DomainError):
    code = "credit_note_refused"


@dataclass
class ExpiryReport:
    """What a run of ``expire_passes`` did, per programme id: ``(passes, cents)``."""

    today: date
    expired: dict[int, tuple[int, int]] = field(default_factory=dict)
    credit_notes: list[str] = field(default_factory=list)
    # Passes of orders never paid, past their end: not money, left ``created``, reported apart.
    unpaid: dict[int, tuple[int, int]] = field(default_factory=dict)
    # Passes expired after their programme's credit note (an order paid after the end).
    not_credited: dict[int, tuple[int, int]] = field(default_factory=dict)


def _lock_expiry():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EXPIRY_LOCK_KEY])


def expire_passes(*, today: date | None = None) -> ExpiryReport:
    """The nightly expiry: every pass still worth money whose upload window closed before
    ``today`` (see ``passes.validity``) becomes ``expired`` with its journal entry, and each
    programme with expired passes gets its credit note, all in one transaction. Running it again,
    or twice at once, expires and credits nothing more."""
    today = today or timezone.localdate()
    last_expires_on = validity.last_expires_on_to_expire(today=today)
    report = ExpiryReport(today=today)
    with transaction.atomic():
        _lock_expiry()
        report.expired = pass_services.expire_passes_past(last_expires_on=last_expires_on)
        for note in issue_credit_notes(today=today):
            report.credit_notes.append(note.number)
        report.unpaid = pass_selectors.unpaid_passes_past(last_expires_on=last_expires_on)
        report.not_credited = selectors.expired_not_credited()
        programmes = sponsor_selectors.programmes_with_ids(report.expired)
        for programme in programmes:
            passes, cents = report.expired[programme.pk]
            record(
                "clearing.passes.expired",
                organisation=programme.sponsor,
                target=programme,
                after={"passes": passes, "cents": cents, "day": today.isoformat()},
            )
    return report


# --- Credit notes ---------------------------------------------------------------------------


def credit_note_number(*, year: int) -> str:
    """The next ``AV-YYYY-NNNNNN``, from the gapless numbering (inside the note's transaction)."""
    return next_number(series=Series.AV, year=year)


def issue_credit_notes(*, today: date | None = None) -> list[CreditNote]:
    """A credit note for every programme that has expired passes and none yet."""
    ids = sorted(selectors.programmes_to_credit())
    notes = []
    for programme in sponsor_selectors.programmes_with_ids(ids).order_by("pk"):
        note = issue_credit_note(programme=programme)
        if note is not None:
            notes.append(note)
    return notes


def issue_credit_note(*, programme) -> CreditNote | None:
    """The credit note of a programme's expiry: face value × expired passes (the operator's fee is
    not refunded); cancelled passes reported, not credited. ``None`` if it exists already or no
    pass expired. The PDF is rendered and e-mailed after commit (Celery)."""
    values = pass_selectors.value_by_programme_and_state(programme=programme).get(programme.pk, {})
    expired_count, expired_cents = values.get(PassState.EXPIRED, (0, 0))
    cancelled_count, cancelled_cents = values.get(PassState.CANCELLED, (0, 0))
    if not expired_count:
        return None
    if expired_cents != expired_count * programme.face_value_cents:
        raise CreditNoteRefused(
            f"Les pass expirés du programme « {programme.name} » n'ont pas tous sa valeur faciale : "
            "lancez le contrôle des comptes (check_ledger) avant d'émettre l'avoir.",
            code="credit_note_face_value_mismatch",
        )
    sponsor = programme.sponsor
    now = timezone.now()
    year = timezone.localtime(now).year
    try:
        with transaction.atomic():
            if CreditNote.objects.filter(programme=programme).exists():
                return None
            note = CreditNote.objects.create(
                programme=programme,
                sponsor=sponsor,
                number=credit_note_number(year=year),
                year=year,
                issued_at=now,
                sponsor_name=sponsor.name,
                sponsor_address=" ".join(x for x in (sponsor.address, sponsor.postcode, sponsor.city) if x),
                sponsor_siret=sponsor.siret,
                programme_name=programme.name,
                valid_until=programme.valid_until,
                expires_on=pass_services.expiry_date(programme),
                face_value_cents=programme.face_value_cents,
                expired_pass_count=expired_count,
                amount_cents=expired_cents,
                cancelled_pass_count=cancelled_count,
                cancelled_value_cents=cancelled_cents,
            )
    except IntegrityError:  # issued at the same moment by another run: its note stands
        return None
    record(
        "clearing.credit_note.issued",
        organisation=sponsor,
        target=note,
        after={"number": note.number, "amount_cents": note.amount_cents, "passes": expired_count},
    )
    from clearing.tasks import render_and_send_credit_note

    submit_on_commit(render_and_send_credit_note, note.pk)
    return note


def render_credit_note_pdf(note: CreditNote) -> bytes:
    from weasyprint import HTML

    html = render_to_string("clearing/credit_note_pdf.html", {"note": note, "issuer": settings.PASSNUM_OPERATOR_NAME})
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer)
    return buffer.getvalue()


def attach_credit_note_pdf(*, credit_note: CreditNote) -> CreditNote:
    """Renders the PDF once (the database refuses to replace it)."""
    with transaction.atomic():
        note = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
        if not note.pdf:
            note.pdf.save(f"{note.number}.pdf", ContentFile(render_credit_note_pdf(note)), save=False)
            CreditNote.objects.filter(pk=note.pk).update(pdf=note.pdf.name)
    return note


def send_credit_note(*, credit_note: CreditNote) -> bool:
    """E-mails the credit note (PDF attached) to the sponsor's admins and finance members, once."""
    with transaction.atomic():
        note = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
        if note.sent_at is not None or not note.pdf:
            return False
        recipients = selectors.sponsor_managers_emails(note.sponsor)
        CreditNote.objects.filter(pk=note.pk).update(sent_at=timezone.now())
        if recipients:
            link = settings.SITE_URL.rstrip("/") + reverse("sponsors:home")
            body = (
                f"Bonjour,\n\nLes pass du programme « {note.programme_name} » non utilisés à la fin de leur "
                f"validité ont expiré le {note.expires_on:%d/%m/%Y}. Nous vous remboursons leur valeur faciale "
                f"par l'avoir {note.number} ci-joint : {note.expired_pass_count} pass, soit "
                f"{euros(note.amount_cents)} (les frais de gestion ne sont pas remboursés).\n"
                + (
                    f"Les {note.cancelled_pass_count} pass des carnets déclarés perdus ou annulés "
                    f"({euros(note.cancelled_value_cents)}) ne sont pas remboursés ; ils figurent sur l'avoir "
                    "pour information.\n"
                    if note.cancelled_pass_count
                    else ""
                )
                + f"\nL'avoir est aussi disponible dans votre espace : {link}\n\nL'équipe du Pass numérique"
            )
            mail.send_after_commit(
                subject=f"Avoir {note.number} — Pass numérique",
                body=body,
                to=recipients,
                attachments=[(f"{note.number}.pdf", note.pdf.name, "application/pdf")],
            )
    return True


# --- Alerts before a programme's end --------------------------------------------------------


def send_expiry_alerts(*, today: date | None = None) -> int:
    """Warns each sponsor whose programme ends in 30, 15 or 7 days (``valid_until``, the date
    printed on the booklets), once per threshold: the alert is recorded (unique per programme,
    threshold and end date) in the transaction that sends it. A night missed sends only the most
    urgent threshold crossed. Returns the number of e-mails sent."""
    today = today or timezone.localdate()
    sent = 0
    for programme in sponsor_selectors.programmes_ending_soon(today=today, within_days=max(ALERT_THRESHOLDS)):
        days_left = (programme.valid_until - today).days
        crossed = [t for t in ALERT_THRESHOLDS if days_left <= t]
        if not crossed:
            continue
        counters = sponsor_selectors.programme_counters(programme=programme)
        if not counters["issued"]:
            continue  # nothing was ordered: nothing to warn about
        if _send_alert(programme, min(crossed), crossed, counters, days_left):
            sent += 1
    return sent


def _send_alert(programme, threshold, crossed, counters, days_left):
    recipients = selectors.sponsor_managers_emails(programme.sponsor)
    try:
        with transaction.atomic():
            if ExpiryAlert.objects.filter(
                programme=programme, valid_until=programme.valid_until, days_before__lte=threshold
            ).exists():
                return False
            now = timezone.now()
            ExpiryAlert.objects.create(
                programme=programme,
                days_before=threshold,
                valid_until=programme.valid_until,
                sent_at=now,
                recipients=recipients,
                counters=counters,
            )
            # The larger thresholds a missed night skipped: recorded, never sent afterwards.
            ExpiryAlert.objects.bulk_create(
                [
                    ExpiryAlert(
                        programme=programme, days_before=t, valid_until=programme.valid_until, sent_at=now, counters={}
                    )
                    for t in crossed
                    if t != threshold
                ],
                ignore_conflicts=True,
            )
            if recipients:
                subject, body = _alert_text(programme, counters, days_left)
                mail.send_after_commit(subject=subject, body=body, to=recipients)
    except IntegrityError:  # the same alert, recorded at the same moment by another run
        return False
    return True


def _alert_text(programme, counters, days_left):
    link = settings.SITE_URL.rstrip("/") + reverse("sponsors:programme", kwargs={"pk": programme.pk})
    expires_on = pass_services.expiry_date(programme)
    subject = f"Fin du programme « {programme.name} » dans {days_left} jours — Pass numérique"
    body = (
        f"Bonjour,\n\nLes pass du programme « {programme.name} » sont valables jusqu'au "
        f"{programme.valid_until:%d/%m/%Y}, soit dans {days_left} jours. Les structures pourront encore les "
        f"encaisser jusqu'au {expires_on:%d/%m/%Y} (délai de grâce).\n\n"
        "Où en sont vos carnets :\n"
        f"- émis : {counters['issued']}\n"
        f"- chez les prescripteurs, pas encore remis : {counters['at_prescribers']}\n"
        f"- remis aux bénéficiaires : {counters['handed_out']}\n"
        f"- commencés (au moins un pass utilisé) : {counters['started']}\n"
        f"- entièrement utilisés : {counters['used_up']}\n\n"
        "Pour que les pass servent, vous pouvez relancer vos prescripteurs ou prolonger la validité du "
        "programme depuis votre espace. Après la fin, les pass non utilisés vous seront remboursés à leur "
        "valeur faciale par un avoir.\n\n"
        f"Votre programme : {link}\n\nL'équipe du Pass numérique"
    )
    return subject, body


# --- subscription invoices and netting -------------------------------------------------------


def vat_of(amount_cents: int, rate_bp: int) -> int:
    """``amount × rate``, rounded half up to the cent."""
    return (amount_cents * rate_bp + 5000) // 10000


@transaction.atomic
def issue_subscription_invoice(*, subscription, now: datetime.datetime | None = None) -> SubscriptionInvoice:
    """The invoice of a subscription (ABO-YYYY-NNNNNN), issued once: a second call, even at the
    same moment, returns the first invoice and gives its number back."""
    existing = SubscriptionInvoice.objects.filter(subscription=subscription).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    year = timezone.localtime(now, PARIS).year
    organisation = subscription.site.organisation
    vat_rate = settings.PASSNUM_VAT_RATE_BP
    vat = vat_of(subscription.amount_cents, vat_rate)
    try:
        with transaction.atomic():  # a lost race rolls back the number with the row
            invoice = SubscriptionInvoice.objects.create(
                number=next_number(series=Series.ABO, year=year),
                year=year,
                subscription=subscription,
                site=subscription.site,
                subscription_year=subscription.year,
                issued_at=now,
                site_name=organisation.name,
                site_siret=organisation.siret or "",
                amount_cents=subscription.amount_cents,
                vat_rate_bp=vat_rate,
                vat_cents=vat,
                total_cents=subscription.amount_cents + vat,
            )
    except IntegrityError:
        return SubscriptionInvoice.objects.get(subscription=subscription)
    record(
        "clearing.subscription_invoice.issued",
        organisation=organisation,
        target=invoice,
        after={"number": invoice.number, "total_cents": invoice.total_cents},
    )
    from clearing.tasks import render_subscription_invoice_pdfs

    submit_on_commit(render_subscription_invoice_pdfs, [invoice.pk])
    return invoice


def issue_subscription_invoices(*, now: datetime.datetime | None = None) -> int:
    """Issues the invoice of every subscription still to pay that has none (nightly). Returns
    how many were issued."""
    issued = 0
    for subscription in due_subscriptions().filter(invoice__isnull=True):
        issue_subscription_invoice(subscription=subscription, now=now)
        issued += 1
    return issued


def _subscription_to_net(
    *, site: Site, month: datetime.date, now, available_cents: int, nets_subscription: bool | None = None
):
    """The invoice of the site's oldest unpaid subscription, when the site chose to have it
    deducted and the statement can carry it whole; else None."""
    if nets_subscription is None:
        nets_subscription = SubscriptionNetting.objects.filter(site=site, enabled=True).exists()
    if not nets_subscription:
        return None
    subscription = unpaid_subscriptions(site_id=site.pk, up_to_year=month.year).select_related("site__organisation")
    subscription = subscription.first()
    if subscription is None:
        return None
    invoice = issue_subscription_invoice(subscription=subscription, now=now)
    return invoice if invoice.total_cents <= available_cents else None


@transaction.atomic
def set_subscription_netting(*, site: Site, enabled: bool, by, request=None) -> SubscriptionNetting:
    """The site chooses whether its unpaid subscription is deducted from its next statement."""
    netting, _ = SubscriptionNetting.objects.update_or_create(
        site=site, defaults={"enabled": bool(enabled), "changed_at": timezone.now(), "changed_by": by}
    )
    record(
        "clearing.subscription_netting.changed",
        actor=by,
        request=request,
        organisation=site.organisation,
        target=netting,
        after={"enabled": netting.enabled},
    )
    return netting


def attach_invoice_pdf(*, invoice: SubscriptionInvoice, content: bytes) -> bool:
    """Stores a subscription invoice's PDF (its only field that may change)."""
    from django.core.files.base import ContentFile

    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(content), save=False)
    return bool(SubscriptionInvoice.objects.filter(pk=invoice.pk, pdf="").update(pdf=invoice.pdf.name))

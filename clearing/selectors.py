"""Reads of clearing: a site's statements, their lines grouped for display, what is pending."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Sum
from django.utils import timezone

from clearing.models import (
    Adjustment,
    CreditNote,
    ExpiryAlert,
    Statement,
    StatementLine,
    StatementStatus,
    SubscriptionInvoice,
    SubscriptionNetting,
)
from mediators.redemption.selectors import redeemed_value_by_programme
from mediators.redemption.settlement import unsettled_redemptions
from passnum.organisations.enums import Role
from passnum.organisations.selectors import members_of
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import PassState
from sponsors import selectors as sponsor_selectors


def statements_of(organisation, *, year: int | None = None):
    """The organisation's statements, newest first (a year of numbering, if given)."""
    statements = Statement.objects.for_organisation(organisation).select_related("site__organisation")
    if year is not None:
        statements = statements.filter(year=year)
    return statements.order_by("-month", "-number")


def statement_of(organisation, *, number: str) -> Statement:
    """One statement of the organisation by its number; 404 for another organisation's."""
    return get_for_organisation_or_404(
        Statement.objects.select_related("site__organisation"), organisation, number=number
    )


def statement_groups(*, statement: Statement) -> list[dict]:
    """The statement's lines by service and point de présence, with counts and totals (one query)."""
    rows = (
        StatementLine.objects.filter(statement=statement)
        .values("service__code", "service__title", "point_of_presence__name")
        .annotate(redemptions=Count("pk"), passes=Sum("pass_count"), cents=Sum("amount_cents"))
        .order_by("point_of_presence__name", "service__code")
    )
    return [
        {
            "service_code": row["service__code"],
            "service": row["service__title"],
            "point_of_presence": row["point_of_presence__name"],
            "redemptions": row["redemptions"],
            "passes": row["passes"],
            "amount_cents": row["cents"],
        }
        for row in rows
    ]


def statement_adjustments(*, statement: Statement):
    return Adjustment.objects.filter(statement=statement).order_by("created_at")


def pending_of(*, site) -> dict:
    """What the site's next statement holds so far: redemptions not yet on a statement (the
    current month's, and any earlier one left unsettled) and adjustments not yet carried."""
    redemptions = unsettled_redemptions(site_id=site.pk).aggregate(
        count=Count("pk"), cents=Sum("amount_cents"), passes=Sum("pass_count")
    )
    adjustments = Adjustment.objects.filter(site=site, statement__isnull=True).aggregate(
        count=Count("pk"), cents=Sum("amount_cents")
    )
    redemptions_cents, adjustments_cents = redemptions["cents"] or 0, adjustments["cents"] or 0
    return {
        "month": timezone.localdate().replace(day=1),
        "redemptions": redemptions["count"],
        "passes": redemptions["passes"] or 0,
        "redemptions_cents": redemptions_cents,
        "adjustments": adjustments["count"],
        "adjustments_cents": adjustments_cents,
        "total_cents": redemptions_cents + adjustments_cents,
    }


def statement_as_dict(statement: Statement, *, with_lines: bool = False) -> dict:
    body = {
        "number": statement.number,
        "month": f"{statement.month:%Y-%m}",
        "issued_at": statement.issued_at.isoformat(),
        "status": statement.status,
        "redemption_count": statement.redemption_count,
        "pass_count": statement.pass_count,
        "redemptions_cents": statement.redemptions_cents,
        "adjustments_cents": statement.adjustments_cents,
        "subscription_netted_cents": statement.subscription_netted_cents,
        "total_cents": statement.total_cents,
        "pdf_ready": bool(statement.pdf),
    }
    if with_lines:
        body["groups"] = statement_groups(statement=statement)
        body["adjustments"] = [
            {"amount_cents": a.amount_cents, "reason": a.reason} for a in statement_adjustments(statement=statement)
        ]
    return body


# --- expiry and credit notes


def sponsor_managers_emails(organisation) -> list[str]:
    """The sponsor's admins and finance members: who receives alerts and credit notes."""
    members = members_of(organisation).filter(role__in=[Role.ADMIN, Role.FINANCE], user__is_active=True)
    return sorted({m.user.email for m in members})


def programme_expiry_alert(*, programme, today) -> dict | None:
    """The end-of-programme alert (J-30, J-15, J-7) a programme is under today, as the nightly job
    decides it (``services.send_expiry_alerts``: an open programme, the smallest threshold
    crossed), with when that alert was sent (None if the job has not sent it yet); None when the
    programme is not within 30 days of its end. At most one query (the alert sent)."""
    from clearing.services import ALERT_THRESHOLDS  # the rule stays with the job that sends the alerts
    from passnum.passes.services import expiry_date

    if programme.status != programme.Status.OPEN:
        return None
    days_left = (programme.valid_until - today).days
    crossed = [threshold for threshold in ALERT_THRESHOLDS if 0 <= days_left <= threshold]
    if not crossed:
        return None
    threshold = min(crossed)
    sent = (
        ExpiryAlert.objects.filter(programme=programme, valid_until=programme.valid_until, days_before=threshold)
        .values_list("sent_at", flat=True)
        .first()
    )
    return {
        "threshold": threshold,
        "label": f"J-{threshold}",
        "days_left": days_left,
        "valid_until": programme.valid_until,
        "expires_on": expiry_date(programme),
        "sent_at": sent,
    }


def credit_notes_of(organisation):
    return CreditNote.objects.for_organisation(organisation).order_by("-issued_at", "-pk")


def programmes_to_credit() -> set[int]:
    """Programmes with expired passes and no credit note yet."""
    credited = set(CreditNote.objects.values_list("programme_id", flat=True))
    return pass_selectors.programmes_with_expired_passes() - credited


def expired_not_credited() -> dict[int, tuple[int, int]]:
    """Expired passes beyond their programme's credit note (passes of an order paid after the
    programme's expiry): ``{programme_id: (passes, cents)}``, for the operator to settle by hand."""
    notes = {n.programme_id: n for n in CreditNote.objects.all()}
    if not notes:
        return {}
    result = {}
    for programme_id, states in pass_selectors.value_by_programme_and_state().items():
        count, cents = states.get(PassState.EXPIRED, (0, 0))
        note = notes.get(programme_id)
        if note is not None and count > note.expired_pass_count:
            result[programme_id] = (count - note.expired_pass_count, cents - note.amount_cents)
    return result


# --- The ledger -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerLine:
    """A programme's conservation, in cents: ``ordered`` (face value of the passes of its
    invoiced or paid orders, read from the orders) must equal the passes' value by where it is:
    ``created`` (not handed out, or order unpaid), ``active``, ``redeemed_unsettled`` and
    ``settled`` (read from the live redemptions, not from the passes), ``expired``, ``cancelled``.
    ``redeemed_passes`` is the value of the passes in state ``redeemed``, which must equal the
    redemptions' two columns. ``paid_to_sites`` (the paid statement lines) is shown beside: a
    settled redemption waits for its statement's transfer."""

    programme_id: int
    programme: str
    sponsor: str
    ordered: int
    created: int
    active: int
    redeemed_unsettled: int
    settled: int
    expired: int
    cancelled: int
    redeemed_passes: int
    paid_to_sites: int = 0
    returned_by_bank: int = 0

    COLUMNS = ("created", "active", "redeemed_unsettled", "settled", "expired", "cancelled")

    @property
    def accounted(self) -> int:
        return sum(getattr(self, column) for column in self.COLUMNS)

    @property
    def difference(self) -> int:
        return self.ordered - self.accounted

    @property
    def redeemed_difference(self) -> int:
        return self.redeemed_passes - self.redeemed_unsettled - self.settled

    @property
    def payout_excess(self) -> int:
        """What was paid to sites, or returned by the bank and owed again, beyond the settled
        redemptions: never positive when the books are right."""
        return max(0, self.paid_to_sites + self.returned_by_bank - self.settled)

    @property
    def is_balanced(self) -> bool:
        return self.difference == 0 and self.redeemed_difference == 0 and self.payout_excess == 0


def paid_to_sites_by_programme(*, programme=None) -> dict[int, int]:
    """Paid to sites: the live lines of the statements marked paid, per programme, in cents.
    Shown beside the ledger (never more than ``settled``; adjustments are per site, not here)."""
    lines = StatementLine.objects.filter(live=True, statement__status=StatementStatus.PAID)
    if programme is not None:
        lines = lines.filter(programme=programme)
    rows = lines.values("programme_id").annotate(value=Sum("amount_cents")).order_by()
    return {row["programme_id"]: row["value"] or 0 for row in rows}


def ledger(*, programme=None) -> list[LedgerLine]:
    """Each programme's figures (or one programme's), in cents, in programme order."""
    ordered = sponsor_selectors.ordered_value_by_programme(programme=programme)
    passes = pass_selectors.value_by_programme_and_state(programme=programme)
    redeemed = redeemed_value_by_programme(programme=programme)
    paid = paid_to_sites_by_programme(programme=programme)
    from clearing.payments.selectors import returned_to_pay_again_by_programme

    returned = returned_to_pay_again_by_programme(programme=programme)
    ids = sorted(set(ordered) | set(passes) | set(redeemed))
    programmes = {p.pk: p for p in sponsor_selectors.programmes_with_ids(ids)}
    lines = []
    for pk in ids:
        states = passes.get(pk, {})
        redemptions = redeemed.get(pk, {})

        def cents(state, states=states):
            return states.get(state, (0, 0))[1]

        lines.append(
            LedgerLine(
                programme_id=pk,
                programme=str(programmes[pk]) if pk in programmes else f"programme {pk}",
                sponsor=programmes[pk].sponsor.name if pk in programmes else "",
                ordered=ordered.get(pk, 0),
                created=cents(PassState.CREATED),
                active=cents(PassState.ACTIVE),
                redeemed_unsettled=redemptions.get("redeemed_unsettled", (0, 0))[1],
                settled=redemptions.get("settled", (0, 0))[1],
                expired=cents(PassState.EXPIRED),
                cancelled=cents(PassState.CANCELLED),
                redeemed_passes=cents(PassState.REDEEMED),
                paid_to_sites=paid.get(pk, 0),
                returned_by_bank=returned.get(pk, 0),
            )
        )
    return lines


def subscription_invoices_of(organisation):
    return SubscriptionInvoice.objects.for_organisation(organisation).order_by("-year", "-number")


def subscription_invoice_of(organisation, *, number: str) -> SubscriptionInvoice:
    return get_for_organisation_or_404(SubscriptionInvoice.objects.all(), organisation, number=number)


def nets_subscription(*, site) -> bool:
    return SubscriptionNetting.objects.filter(site=site, enabled=True).exists()


# --- Settled value, for the co-funders ------------------------------------------------------


def settled_value_by_programme_and_month(
    *, programme_ids: list[int], first_month: date | None = None, last_month: date | None = None
) -> dict[tuple[int, date], int]:
    """``{(programme_id, month): cents}``: the value of the redemptions settled to sites, by
    programme and by month of the clearing statement that settled them (live lines only: a voided
    statement's redemptions count again once a later statement settles them). ``first_month`` and
    ``last_month`` (first days of months) bound the statements' months, both included. One query."""
    if not programme_ids:
        return {}
    lines = StatementLine.objects.filter(live=True, programme_id__in=programme_ids)
    if first_month is not None:
        lines = lines.filter(statement__month__gte=first_month)
    if last_month is not None:
        lines = lines.filter(statement__month__lte=last_month)
    rows = (
        lines.values("programme_id", "statement__month")
        .annotate(cents=Sum("amount_cents"))
        .order_by("statement__month", "programme_id")
    )
    return {(row["programme_id"], row["statement__month"]): row["cents"] for row in rows}

# --- The operator's overview (read by passnum/overview.py) --------------------------------------


def scheme_statement_figures() -> dict:
    """Every site's statements: ``{"sites_paid", "paid_cents", "last_close"}`` — two queries.
    ``sites_paid``: sites with at least one paid statement; ``last_close``: the latest month
    closed (``{"month", "statements", "sites", "total_cents", "issued_at", "paid"}``) or None."""
    from django.db.models import Max, Q

    paid = Statement.objects.filter(status=StatementStatus.PAID).aggregate(
        sites=Count("site_id", distinct=True), cents=Sum("total_cents")
    )
    last = (
        Statement.objects.exclude(status=StatementStatus.VOIDED)
        .values("month")
        .annotate(
            statements=Count("pk"),
            sites=Count("site_id", distinct=True),
            total_cents=Sum("total_cents"),
            issued_at=Max("issued_at"),
            paid=Count("pk", filter=Q(status=StatementStatus.PAID)),
        )
        .order_by("-month")
        .first()
    )
    return {"sites_paid": paid["sites"], "paid_cents": paid["cents"] or 0, "last_close": last}

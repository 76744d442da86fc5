"""Reads of payment batches: the batches and their transfers, the statements and payout orders
to pay or waiting for a verified payee account, how each of an organisation's statements was paid,
and where a payout order stands (for the app that ordered it)."""

import dataclasses
import datetime

from django.db.models import QuerySet, Sum

from clearing.models import Statement, StatementLine, StatementStatus
from clearing.payees.selectors import check_payee_payable
from clearing.payees.validators import PayeeError
from clearing.payments.models import (
    PAYOUT_PAYABLE_STATUSES,
    UNPAID_LINE_STATUSES,
    LineStatus,
    PaymentBatch,
    PaymentBatchLine,
    PayoutOrder,
    PayoutStatus,
)

# A returned statement waits for its next transfer in one of these statuses.
AWAITING_PAYMENT = (StatementStatus.REJECTED, StatementStatus.TO_PAY, StatementStatus.IN_BATCH)


def batches() -> QuerySet:
    return PaymentBatch.objects.select_related("created_by")


def batch_lines(*, batch: PaymentBatch) -> QuerySet:
    return batch.lines.select_related("organisation", "statement", "payout").order_by("pk")


def statements_to_pay() -> QuerySet:
    from clearing.payments.services import PAYABLE_STATUSES

    return (
        Statement.objects.filter(status__in=PAYABLE_STATUSES, total_cents__gt=0)
        .select_related("site__organisation")
        .order_by("pk")
    )


def payouts_to_pay() -> QuerySet:
    """The payout orders the next batch takes: to pay for the first time, or again after the bank
    rejected or returned their transfer."""
    return PayoutOrder.objects.filter(status__in=PAYOUT_PAYABLE_STATUSES).select_related("organisation").order_by("pk")


def held_back_payees() -> list[dict]:
    """The statements and payout orders to pay whose organisation has no verified payee account,
    with the reason: the next batch will hold them back."""
    from clearing.payments.services import held_back_entry, held_back_payout_entry

    held, verdicts = [], {}

    def verdict_for(organisation):
        if organisation.pk not in verdicts:
            try:
                check_payee_payable(organisation=organisation)
                verdicts[organisation.pk] = None
            except PayeeError as error:
                verdicts[organisation.pk] = error
        return verdicts[organisation.pk]

    for statement in statements_to_pay():
        if (error := verdict_for(statement.site.organisation)) is not None:
            held.append(held_back_entry(statement, error))
    for payout in payouts_to_pay():
        if (error := verdict_for(payout.organisation)) is not None:
            held.append(held_back_payout_entry(payout, error))
    return held


@dataclasses.dataclass(frozen=True)
class PayoutState:
    """Where a payout order stands, as the app that ordered it shows it."""

    payout_id: int
    status: str
    status_label: str
    amount_cents: int
    reference: str
    paid_at: datetime.datetime | None
    # The batch of its latest transfer, if any, and the bank's reason when it came back.
    batch_message_id: str
    execution_date: datetime.date | None
    rejection_reason: str

    @property
    def is_paid(self) -> bool:
        return self.status == PayoutStatus.PAID


def payout_status(*, source_kind: str, source_id: int) -> PayoutState | None:
    """The state of the payout order of ``(source_kind, source_id)``; ``None`` if never ordered."""
    payout = PayoutOrder.objects.filter(source_kind=source_kind, source_id=source_id).first()
    if payout is None:
        return None
    line = payout.payment_lines.select_related("batch").order_by("-pk").first()
    return PayoutState(
        payout_id=payout.pk,
        status=payout.status,
        status_label=payout.get_status_display(),
        amount_cents=payout.amount_cents,
        reference=payout.reference,
        paid_at=payout.paid_at,
        batch_message_id=line.batch.message_id if line else "",
        execution_date=line.batch.execution_date if line else None,
        rejection_reason=line.reason_label if line and line.status in UNPAID_LINE_STATUSES else "",
    )


def payouts_of(*, organisation) -> QuerySet:
    """An organisation's payout orders, the newest first (for its own pages)."""
    return PayoutOrder.objects.for_organisation(organisation).order_by("-created_at", "-pk")


def last_lines_of_statements(*, organisation) -> dict[int, PaymentBatchLine]:
    """For each of ``organisation``'s statements that went into a batch, its latest transfer."""
    lines = PaymentBatchLine.objects.for_organisation(organisation).filter(statement__isnull=False).order_by("pk")
    # In id order, the latest line of each statement comes last and wins (portable: no DISTINCT ON).
    return {line.statement_id: line for line in lines}


def rejected_lines_of(*, organisation) -> QuerySet:
    return PaymentBatchLine.objects.for_organisation(organisation).filter(status__in=UNPAID_LINE_STATUSES)


def returned_to_pay_again_by_programme(*, programme=None) -> dict[int, int]:
    """Money the bank returned after a batch was paid and not paid again yet: the live lines of the
    statements with a returned transfer that are not *paid* now, per programme, in cents."""
    returned = PaymentBatchLine.objects.filter(status=LineStatus.RETURNED, statement__isnull=False)
    lines = StatementLine.objects.filter(
        live=True, statement_id__in=returned.values("statement_id"), statement__status__in=AWAITING_PAYMENT
    )
    if programme is not None:
        lines = lines.filter(programme=programme)
    rows = lines.values("programme_id").annotate(value=Sum("amount_cents")).order_by()
    return {row["programme_id"]: row["value"] or 0 for row in rows}


def last_batches(*, limit: int = 5) -> list[dict]:
    """The latest payment batches, newest first: ``[{"id", "status", "status_label", "created_at",
    "sent_at", "paid_at", "line_count", "total_cents"}]`` — one query (for the operator's overview)."""
    labels = dict(PaymentBatch._meta.get_field("status").choices)
    rows = list(
        PaymentBatch.objects.order_by("-created_at", "-pk").values(
            "id", "status", "created_at", "sent_at", "paid_at", "line_count", "total_cents"
        )[:limit]
    )
    for row in rows:
        row["status_label"] = labels.get(row["status"], row["status"])
    return rows

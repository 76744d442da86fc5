"""Reads of payment batches: the batches and their transfers, the statements waiting for a
verified payee account, and how each of an organisation's statements was paid."""

from django.db.models import QuerySet, Sum

from clearing.models import Statement, StatementLine, StatementStatus
from clearing.payees.selectors import check_payee_payable
from clearing.payees.validators import PayeeError
from clearing.payments.models import UNPAID_LINE_STATUSES, LineStatus, PaymentBatch, PaymentBatchLine

# A returned statement waits for its next transfer in one of these statuses.
AWAITING_PAYMENT = (StatementStatus.REJECTED, StatementStatus.TO_PAY, StatementStatus.IN_BATCH)


def batches() -> QuerySet:
    return PaymentBatch.objects.select_related("created_by")


def batch_lines(*, batch: PaymentBatch) -> QuerySet:
    return batch.lines.select_related("organisation", "statement").order_by("pk")


def statements_to_pay() -> QuerySet:
    from clearing.payments.services import PAYABLE_STATUSES

    return (
        Statement.objects.filter(status__in=PAYABLE_STATUSES, total_cents__gt=0)
        .select_related("site__organisation")
        .order_by("pk")
    )


def held_back_payees() -> list[dict]:
    """The statements to pay whose organisation has no verified payee account, with the reason:
    the next batch will hold them back."""
    from clearing.payments.services import held_back_entry

    held, verdicts = [], {}
    for statement in statements_to_pay():
        organisation = statement.site.organisation
        if organisation.pk not in verdicts:
            try:
                check_payee_payable(organisation=organisation)
                verdicts[organisation.pk] = None
            except PayeeError as error:
                verdicts[organisation.pk] = error
        if verdicts[organisation.pk] is not None:
            held.append(held_back_entry(statement, verdicts[organisation.pk]))
    return held


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

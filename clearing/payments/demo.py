"""Demo of payment batches, on the demo site's statement (clearing's demo closes last month): a
first batch sent to the bank, whose transfer the bank rejected (AC01, IBAN incorrect), then a
second batch that paid the statement again. Idempotent: nothing is made once a batch exists."""

from clearing.models import Statement
from clearing.payments import services
from clearing.payments.models import PaymentBatch
from mediators.qualification.selectors import site_of


def build(context):
    site = site_of(context.organisations["site"])
    operator = context.users.get("operateur@demo.passnum.fr")
    statement = (
        Statement.objects.filter(site=site, status__in=services.PAYABLE_STATUSES, total_cents__gt=0).first()
        if site is not None
        else None
    )
    if statement is not None and not PaymentBatch.objects.exists():
        rejected = services.create_batch(statements=[statement], by=operator).batch
        services.mark_batch_sent(batch=rejected, by=operator)
        services.record_rejection(line=rejected.lines.get(), reason_code="AC01", by=operator)
        paid = services.create_batch(statements=[statement], by=operator).batch
        services.mark_batch_sent(batch=paid, by=operator)
        services.mark_batch_paid(batch=paid, by=operator)
    context.output["payment_batches"] = [
        {"id": batch.pk, "status": batch.status, "sepa_file": batch.sepa_file.path if batch.sepa_file else None}
        for batch in PaymentBatch.objects.order_by("pk")
    ]

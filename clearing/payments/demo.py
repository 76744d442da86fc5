"""Demo of payment batches, on the demo site's statements (clearing's demo closes the last two
months): the older statement goes in a first batch sent to the bank, whose transfer the bank
rejected (AC01, IBAN incorrect), then in a second batch that paid it; the newer one is in a third
batch, sent to the bank. Idempotent: nothing is made once the site has a batch (other demos pay
other things by their own batches)."""

from clearing.models import Statement
from clearing.payments import services
from clearing.payments.models import PaymentBatch
from mediators.qualification.selectors import site_of


def build(context):
    site = site_of(context.organisations["site"])
    operator = context.users.get("operateur@demo.passnum.fr")
    statements = (
        list(
            Statement.objects.filter(site=site, status__in=services.PAYABLE_STATUSES, total_cents__gt=0).order_by(
                "month"
            )
        )
        if site is not None
        else []
    )
    if statements and not PaymentBatch.objects.filter(lines__statement__site=site).exists():
        older, newer = statements[0], statements[1:]
        rejected = services.create_batch(statements=[older], by=operator).batch
        services.mark_batch_sent(batch=rejected, by=operator)
        services.record_rejection(line=rejected.lines.get(), reason_code="AC01", by=operator)
        paid = services.create_batch(statements=[older], by=operator).batch
        services.mark_batch_sent(batch=paid, by=operator)
        services.mark_batch_paid(batch=paid, by=operator)
        if newer:  # last month's statement: sent to the bank, not paid yet
            sent = services.create_batch(statements=newer[:1], by=operator).batch
            services.mark_batch_sent(batch=sent, by=operator)
    # The demo site's batches (the year of use in passnum/demo_year.py pays other sites later).
    context.output["payment_batches"] = [
        {"id": batch.pk, "status": batch.status, "sepa_file": batch.sepa_file.path if batch.sepa_file else None}
        for batch in PaymentBatch.objects.filter(lines__statement__site=site).distinct().order_by("pk")
    ]

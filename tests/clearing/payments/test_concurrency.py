"""Races of payment batches on real PostgreSQL connections (one per thread): two batches made at
once never pay a statement twice."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clearing.models import StatementStatus
from clearing.payments import services
from clearing.payments.models import PaymentBatch, PaymentBatchLine
from tests.clearing.payments.factories import statement_to_pay
from tests.clearing.test_concurrency import run_together
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_batches_made_at_once_pay_each_statement_once():
    """The statements are locked (SELECT … FOR UPDATE) by the first batch; the second, once the
    first has committed, finds them *in a batch* and has nothing left to pay."""
    statements = [statement_to_pay() for _ in range(3)]
    operator = UserFactory(staff=True)

    results = run_together(*[lambda: services.create_batch(by=operator)] * 2)

    made = [r for r in results if isinstance(r, services.BatchResult)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(made) == 1 and [getattr(r, "code", repr(r)) for r in refused] == ["nothing_to_pay"]
    assert PaymentBatch.objects.count() == 1
    assert sorted(PaymentBatchLine.objects.values_list("statement_id", flat=True)) == sorted(s.pk for s in statements)
    assert {type(s).objects.get(pk=s.pk).status for s in statements} == {StatementStatus.IN_BATCH}


def test_the_unique_index_refuses_two_live_lines_written_at_once_for_one_statement():
    """Below the service: two connections insert a live line for the same statement in two
    batches. The partial unique index (payment_line_one_live_per_statement) makes the second wait
    for the first and fail; without it, both would commit."""
    statement = statement_to_pay()
    operator = UserFactory(staff=True)
    line = services.create_batch(by=operator).batch.lines.get()
    PaymentBatchLine.objects.filter(pk=line.pk).update(status="rejected")  # frees the statement
    copy = {f: getattr(line, f) for f in ("organisation_id", "payee_account_id", "holder_name", "iban", "bic")}
    batches = [
        PaymentBatch.objects.create(
            message_id=f"RACE-{n}",
            debtor_name="x",
            debtor_iban="x",
            execution_date=timezone.localdate(),
            created_at=timezone.now(),
        )
        for n in (1, 2)
    ]

    def insert(batch):
        def job():
            with transaction.atomic():
                return PaymentBatchLine.objects.create(
                    batch=batch,
                    statement_id=statement.pk,
                    amount_cents=100,
                    end_to_end_id=f"E2E-{batch.message_id}",
                    remittance_info="x",
                    **copy,
                )

        return job

    results = run_together(insert(batches[0]), insert(batches[1]))

    assert sorted(type(r).__name__ for r in results) == ["IntegrityError", "PaymentBatchLine"]
    assert isinstance(next(r for r in results if isinstance(r, Exception)), IntegrityError)
    assert PaymentBatchLine.objects.filter(statement=statement).exclude(status="rejected").count() == 1

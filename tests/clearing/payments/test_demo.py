import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from clearing.models import Statement, StatementStatus
from clearing.payments.models import LineStatus, PaymentBatch, PaymentBatchLine
from tests.clearing.payments.factories import xsd_errors

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_rejected_transfer_a_paid_batch_and_a_sent_one_and_reruns_add_nothing():
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    output = json.loads(out.getvalue())

    batches = output["payment_batches"]
    assert [b["status"] for b in batches] == ["sent", "paid", "sent"]
    for entry in batches:
        path = Path(entry["sepa_file"])
        assert path.is_absolute() and xsd_errors(path.read_bytes()) == []
    older, newer = sorted(
        (Statement.objects.get(number=s["number"]) for s in output["statements"]), key=lambda s: s.month
    )
    assert (older.status, newer.status) == (StatementStatus.PAID, StatementStatus.IN_BATCH)
    assert PaymentBatchLine.objects.get(batch_id=batches[0]["id"]).status == LineStatus.REJECTED
    assert PaymentBatchLine.objects.get(batch_id=batches[2]["id"]).statement == newer

    before = (PaymentBatch.objects.count(), PaymentBatchLine.objects.count())
    again = StringIO()
    call_command("demo", "--json", stdout=again)
    assert json.loads(again.getvalue())["payment_batches"] == batches
    assert (PaymentBatch.objects.count(), PaymentBatchLine.objects.count()) == before

"""The operator's console: make a batch (confirmation page listing the payees held back),
download its SEPA file, mark it sent, record a rejection, import the bank's pain.002, mark it
paid. Each state change shows a confirmation page first, which changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearing.models import StatementStatus
from clearing.payees.models import PayeeStatus
from clearing.payments.models import BatchStatus, LineStatus, PaymentBatch, PaymentBatchLine
from tests.clearing.payments.factories import pain002, statement_to_pay, xsd_errors

pytestmark = pytest.mark.django_db

BATCHES = "admin:payments_paymentbatch_changelist"
LINES = "admin:payments_paymentbatchline_changelist"


def status_of(statement):
    return type(statement).objects.get(pk=statement.pk).status


def test_the_operator_pays_statements_from_the_console(client, operator_user):
    paid, rejected = statement_to_pay(passes=2), statement_to_pay()
    held = statement_to_pay(payee=PayeeStatus.TO_VERIFY)
    client.force_login(operator_user)

    changelist = client.get(reverse(BATCHES)).content.decode()
    assert "Créer un lot avec les relevés et les ordres de paiement à payer" in changelist and held.number in changelist
    create = reverse("admin:payments_paymentbatch_create")
    page = client.get(create).content.decode()
    assert paid.number in page and rejected.number in page and "pas encore vérifié" in page
    assert not PaymentBatch.objects.exists()  # the confirmation page changes nothing
    response = client.post(create)
    batch = PaymentBatch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{batch.pk}/change/")
    detail = client.get(response["Location"]).content.decode()
    assert held.number in detail and batch.message_id in detail
    assert status_of(paid) == status_of(rejected) == StatementStatus.IN_BATCH
    assert status_of(held) == StatementStatus.ISSUED

    download = client.post(reverse(BATCHES), {"action": "download_sepa", "_selected_action": [batch.pk]})
    content = b"".join(download.streaming_content) if download.streaming else download.content
    assert xsd_errors(content) == [] and paid.number.encode() in content

    select = {"action": "mark_sent", "_selected_action": [batch.pk]}
    assert "Marquer envoyé" in client.post(reverse(BATCHES), select).content.decode()
    assert PaymentBatch.objects.get().status == BatchStatus.DRAFT
    client.post(reverse(BATCHES), {**select, "confirm": "yes"})
    assert PaymentBatch.objects.get().status == BatchStatus.SENT

    line = batch.lines.get(statement=paid)
    select = {"action": "record_rejection", "_selected_action": [line.pk]}
    asked = client.post(reverse(LINES), select).content.decode()
    assert "AC01 — IBAN incorrect" in asked and PaymentBatchLine.objects.get(pk=line.pk).status == LineStatus.PENDING
    client.post(reverse(LINES), {**select, "confirm": "yes", "reason_code": "MD07"})
    assert PaymentBatchLine.objects.get(pk=line.pk).reason_code == "MD07"
    assert status_of(paid) == StatementStatus.TO_PAY

    other = batch.lines.get(statement=rejected)
    select = {"action": "import_pain002", "_selected_action": [batch.pk]}
    assert 'enctype="multipart/form-data"' in client.post(reverse(BATCHES), select).content.decode()
    foreign = SimpleUploadedFile("rapport.xml", pain002("AUTRE", [(other.end_to_end_id, "RJCT", "AC04")]))
    refused = client.post(reverse(BATCHES), {**select, "confirm": "yes", "file": foreign}).content.decode()
    assert "importez-le sur le bon lot" in refused and status_of(rejected) == StatementStatus.IN_BATCH
    report = SimpleUploadedFile("rapport.xml", pain002(batch.message_id, [(other.end_to_end_id, "RJCT", "AC04")]))
    response = client.post(reverse(BATCHES), {**select, "confirm": "yes", "file": report}, follow=True)
    assert "1 virement(s) rejeté(s)" in response.content.decode()
    assert status_of(rejected) == StatementStatus.TO_PAY

    client.post(reverse(BATCHES), {"action": "mark_paid", "_selected_action": [batch.pk], "confirm": "yes"})
    assert PaymentBatch.objects.get().status == BatchStatus.PAID


def test_marking_paid_pays_the_statements_after_confirmation(client, operator_user):
    statement = statement_to_pay()
    client.force_login(operator_user)
    client.post(reverse("admin:payments_paymentbatch_create"))
    batch = PaymentBatch.objects.get()
    client.post(reverse(BATCHES), {"action": "mark_sent", "_selected_action": [batch.pk], "confirm": "yes"})
    select = {"action": "mark_paid", "_selected_action": [batch.pk]}
    assert "Marquer payé" in client.post(reverse(BATCHES), select).content.decode()
    assert status_of(statement) == StatementStatus.IN_BATCH
    response = client.post(reverse(BATCHES), {**select, "confirm": "yes"}, follow=True)
    assert "ses relevés et ordres de paiement sont payés" in response.content.decode()
    assert status_of(statement) == StatementStatus.PAID


def test_nothing_to_pay_is_said_and_no_batch_made(client, operator_user):
    statement_to_pay(payee=None)
    client.force_login(operator_user)
    response = client.post(reverse("admin:payments_paymentbatch_create"), follow=True)
    assert "attendent un compte bancaire vérifié" in response.content.decode()
    assert not PaymentBatch.objects.exists()


def test_the_console_is_for_the_operators_staff_only(client):
    from tests.factories import MembershipFactory

    member = MembershipFactory(role="admin").user
    client.force_login(member)
    response = client.get(reverse("admin:payments_paymentbatch_create"))
    assert response.status_code == 302 and "/login" in response["Location"]

"""Payment batches: which statements a batch pays and to which account, the SEPA file, the
status moves, the bank's rejections typed in or read from its pain.002 report."""

import xml.etree.ElementTree as ET  # noqa: S405 - our own file

import pytest
from django.db import IntegrityError, transaction

from clearing.models import StatementStatus
from clearing.payees.models import PayeeStatus
from clearing.payees.services import set_payee_account, verify_payee_account
from clearing.payments import selectors, services
from clearing.payments.models import BatchStatus, LineStatus, PaymentBatch, PaymentBatchLine
from clearing.payments.services import PaymentError
from passnum.audit.models import AuditLog
from tests.clearing.payments.factories import pain002, sepa_content, statement_to_pay, xsd_errors
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
OTHER_IBAN = "FR1420041010050500013M02606"


@pytest.fixture
def operator(db):
    return UserFactory(staff=True)


def statuses(*statements):
    return [type(s).objects.get(pk=s.pk).status for s in statements]


def test_a_batch_pays_issued_statements_to_verified_accounts_only(operator):
    paid = statement_to_pay(passes=3)
    unverified = statement_to_pay(payee=PayeeStatus.TO_VERIFY)
    missing = statement_to_pay(payee=None)

    result = services.create_batch(by=operator)

    batch = result.batch
    assert batch.status == BatchStatus.DRAFT and batch.line_count == 1 and batch.total_cents == paid.total_cents
    assert {(e["statement"], e["code"]) for e in result.held_back} == {
        (unverified.number, "payee_not_verified"),
        (missing.number, "payee_missing"),
    }
    assert batch.held_back == result.held_back
    assert statuses(paid, unverified, missing) == [
        StatementStatus.IN_BATCH,
        StatementStatus.ISSUED,
        StatementStatus.ISSUED,
    ]
    (line,) = batch.lines.all()
    account = line.payee_account
    assert (line.organisation, line.holder_name, line.iban, line.bic) == (
        paid.site.organisation,
        account.holder_name,
        account.iban,
        account.bic,
    )
    assert line.amount_cents == paid.total_cents == 3 * 1000 or line.amount_cents == paid.total_cents
    assert line.end_to_end_id == f"{paid.number}-{batch.pk}" and line.status == LineStatus.PENDING
    assert paid.status_changes.last().to_status == StatementStatus.IN_BATCH
    assert AuditLog.objects.filter(action="payments.batch.created", target_id=str(batch.pk)).exists()
    assert {e["statement"] for e in selectors.held_back_payees()} == {unverified.number, missing.number}


def test_the_sepa_file_is_a_valid_pain001_naming_each_statement(operator):
    first, second = statement_to_pay(passes=2), statement_to_pay(passes=1)
    batch = services.create_batch(by=operator).batch

    content = sepa_content(batch)
    assert xsd_errors(content) == []
    root = ET.fromstring(content)  # noqa: S314
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) == batch.message_id
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    total = first.total_cents + second.total_cents
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == f"{total // 100}.{total % 100:02d}"
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", namespaces=NS)
    assert info.findtext("p:BtchBookg", namespaces=NS) == "true"
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == batch.debtor_iban
    transfers = info.findall("p:CdtTrfTxInf", namespaces=NS)
    by_e2e = {t.findtext("p:PmtId/p:EndToEndId", namespaces=NS): t for t in transfers}
    for statement in (first, second):
        line = batch.lines.get(statement=statement)
        transfer = by_e2e[line.end_to_end_id]
        assert transfer.find("p:Amt/p:InstdAmt", namespaces=NS).get("Ccy") == "EUR"
        assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == line.iban
        assert statement.number in transfer.findtext("p:RmtInf/p:Ustrd", namespaces=NS)


def test_the_xsd_check_catches_a_broken_file(operator):
    statement_to_pay()
    content = sepa_content(services.create_batch(by=operator).batch)
    broken = content.replace(b"<Ccy>", b"<Ccy>").replace(b'Ccy="EUR"', b'Ccy="EURO"')
    assert xsd_errors(broken), "the schema check must see a wrong currency"


def test_nothing_to_pay_is_refused_and_writes_nothing(operator):
    held = statement_to_pay(payee=PayeeStatus.TO_VERIFY)
    with pytest.raises(PaymentError) as refused:
        services.create_batch(by=operator)
    assert refused.value.code == "nothing_to_pay"
    assert [e["statement"] for e in refused.value.details["held_back"]] == [held.number]
    assert not PaymentBatch.objects.exists() and statuses(held) == [StatementStatus.ISSUED]


def test_a_statement_already_in_a_batch_is_refused(operator):
    statement = statement_to_pay()
    services.create_batch(statements=[statement], by=operator)
    with pytest.raises(PaymentError) as refused:
        services.create_batch(statements=[statement], by=operator)
    assert refused.value.code == "statement_already_in_batch"
    assert PaymentBatch.objects.count() == 1


def test_the_database_refuses_a_second_live_line_for_a_statement(operator):
    statement = statement_to_pay()
    line = services.create_batch(by=operator).batch.lines.get()
    copy = {f: getattr(line, f) for f in ("organisation", "payee_account", "holder_name", "iban", "bic")}
    other = PaymentBatch.objects.create(
        message_id="OTHER",
        debtor_name="x",
        debtor_iban="x",
        execution_date=line.batch.execution_date,
        created_at=line.batch.created_at,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentBatchLine.objects.create(
            batch=other, statement=statement, amount_cents=100, end_to_end_id="E2E-2", remittance_info="x", **copy
        )
    PaymentBatchLine.objects.filter(pk=line.pk).update(status=LineStatus.REJECTED)
    PaymentBatchLine.objects.create(
        batch=other, statement=statement, amount_cents=100, end_to_end_id="E2E-2", remittance_info="x", **copy
    )
    assert PaymentBatchLine.objects.filter(statement=statement).count() == 2


def test_what_was_sent_never_changes(operator):
    statement_to_pay()
    batch = services.create_batch(by=operator).batch
    line = batch.lines.get()
    with pytest.raises(Exception, match="payment_line_sent_details_immutable"), transaction.atomic():
        PaymentBatchLine.objects.filter(pk=line.pk).update(iban=OTHER_IBAN)
    with pytest.raises(Exception, match="payment_line_never_deleted"), transaction.atomic():
        PaymentBatchLine.objects.filter(pk=line.pk).delete()
    with pytest.raises(Exception, match="payment_batch_identity_immutable"), transaction.atomic():
        PaymentBatch.objects.filter(pk=batch.pk).update(debtor_iban=OTHER_IBAN)
    assert PaymentBatchLine.objects.get(pk=line.pk).iban == line.iban


def test_sent_then_paid_pays_the_statements(operator):
    statement = statement_to_pay()
    batch = services.create_batch(by=operator).batch
    with pytest.raises(PaymentError) as refused:
        services.mark_batch_paid(batch=batch, by=operator)
    assert refused.value.code == "batch_status_refused"

    services.mark_batch_sent(batch=batch, by=operator)
    services.mark_batch_paid(batch=batch, by=operator)

    batch.refresh_from_db()
    assert batch.status == BatchStatus.PAID and batch.sent_at and batch.paid_at
    assert [c.to_status for c in batch.status_changes.all()] == ["draft", "sent", "paid"]
    assert batch.lines.get().status == LineStatus.PAID
    assert statuses(statement) == [StatementStatus.PAID]
    with pytest.raises(PaymentError):
        services.mark_batch_sent(batch=batch, by=operator)


def test_a_rejection_sends_the_statement_back_to_pay_and_a_later_batch_takes_it(operator):
    statement = statement_to_pay()
    kept = statement_to_pay()
    batch = services.create_batch(by=operator).batch
    line = batch.lines.get(statement=statement)
    with pytest.raises(PaymentError) as refused:
        services.record_rejection(line=line, reason_code="AC01", by=operator)
    assert refused.value.code == "batch_not_sent"
    services.mark_batch_sent(batch=batch, by=operator)
    with pytest.raises(PaymentError) as refused:
        services.record_rejection(line=line, reason_code="XX99", by=operator)
    assert refused.value.code == "rejection_reason_unknown"

    services.record_rejection(line=line, reason_code="ac01", by=operator)

    line.refresh_from_db()
    assert (line.status, line.reason_code, line.reason_label) == (
        LineStatus.REJECTED,
        "AC01",
        "IBAN incorrect : le numéro de compte n'existe pas ou est mal formé",
    )
    assert statuses(statement) == [StatementStatus.TO_PAY]
    assert [c.to_status for c in statement.status_changes.all()][-2:] == ["rejected", "to_pay"]
    with pytest.raises(PaymentError) as refused:
        services.record_rejection(line=line, reason_code="AC04", by=operator)
    assert refused.value.code == "line_not_pending"

    services.mark_batch_paid(batch=batch, by=operator)
    assert statuses(statement, kept) == [StatementStatus.TO_PAY, StatementStatus.PAID]
    later = services.create_batch(by=operator).batch
    assert later.lines.get().statement == statement and statuses(statement) == [StatementStatus.IN_BATCH]
    assert later.lines.get().end_to_end_id != line.end_to_end_id


def test_a_changed_account_pays_the_snapshot_then_waits_for_verification(operator):
    statement = statement_to_pay()
    organisation = statement.site.organisation
    batch = services.create_batch(by=operator).batch
    line = batch.lines.get()
    old_iban = line.iban

    new = set_payee_account(
        organisation=organisation,
        by=None,
        payee_kind="self",
        holder_name="Nouveau titulaire",
        iban=OTHER_IBAN,
        bic="PSSTFRPPXXX",
    )

    assert line.payee_account.pk != new.pk
    content = sepa_content(batch).decode()
    assert old_iban in content and OTHER_IBAN not in content
    services.mark_batch_sent(batch=batch, by=operator)
    services.record_rejection(line=line, reason_code="AC04", by=operator)
    with pytest.raises(PaymentError) as refused:
        services.create_batch(by=operator)
    assert refused.value.code == "nothing_to_pay"
    assert refused.value.details["held_back"][0]["code"] == "payee_not_verified"

    verify_payee_account(account=new, by=operator)
    later = services.create_batch(by=operator).batch.lines.get()
    assert (later.payee_account, later.iban, later.holder_name) == (new, OTHER_IBAN, "Nouveau titulaire")


# --- pain.002 ------------------------------------------------------------------------------------


@pytest.fixture
def sent_batch(operator):
    statements = [statement_to_pay(), statement_to_pay(), statement_to_pay()]
    batch = services.create_batch(by=operator).batch
    services.mark_batch_sent(batch=batch, by=operator)
    lines = [batch.lines.get(statement=s) for s in statements]
    return batch, statements, lines


def test_the_banks_report_rejects_the_transfers_it_names(operator, sent_batch):
    batch, statements, lines = sent_batch
    report = pain002(
        batch.message_id,
        [
            (lines[0].end_to_end_id, "RJCT", "AC04"),
            (lines[1].end_to_end_id, "ACCP", None),
            (lines[2].end_to_end_id, "RJCT", "ZZ42"),
        ],
    )

    result = services.import_pain002(batch=batch, file=report, by=operator)

    assert sorted(result.rejected) == sorted([lines[0].end_to_end_id, lines[2].end_to_end_id]) and result.accepted == 1
    assert [PaymentBatchLine.objects.get(pk=line.pk).reason_code for line in lines] == ["AC04", "", "ZZ42"]
    assert (
        PaymentBatchLine.objects.get(pk=lines[2].pk).reason_label == "Motif de rejet « ZZ42 » communiqué par la banque"
    )
    assert statuses(*statements) == [StatementStatus.TO_PAY, StatementStatus.IN_BATCH, StatementStatus.TO_PAY]
    again = services.import_pain002(batch=batch, file=report, by=operator)
    assert again.rejected == [] and again.already_rejected == 2
    assert AuditLog.objects.filter(action="payments.pain002.imported").count() == 2


def test_a_whole_group_rejected_rejects_every_transfer(operator, sent_batch):
    batch, statements, lines = sent_batch
    services.import_pain002(
        batch=batch, file=pain002(batch.message_id, group_status="RJCT", group_reason="AM04"), by=operator
    )
    assert {PaymentBatchLine.objects.get(pk=line.pk).reason_code for line in lines} == {"AM04"}
    assert set(statuses(*statements)) == {StatementStatus.TO_PAY}


@pytest.mark.parametrize(
    "content, code",
    [
        (b"", "pain002_malformed"),
        (b"pas du XML", "pain002_malformed"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "pain002_malformed"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', "pain002_malformed"),
        ("MISSING_ID", "pain002_malformed"),
        ("FOREIGN", "pain002_foreign"),
        ("UNKNOWN_E2E", "pain002_unknown_transaction"),
    ],
)
def test_a_bad_report_is_refused_and_changes_nothing(operator, sent_batch, content, code):
    batch, statements, lines = sent_batch
    if content == "MISSING_ID":
        content = pain002("", [(lines[0].end_to_end_id, "RJCT", "AC01")])
    elif content == "FOREIGN":
        content = pain002("PASSNUM-AUTRE-LOT", [(lines[0].end_to_end_id, "RJCT", "AC01")])
    elif content == "UNKNOWN_E2E":
        content = pain002(
            batch.message_id, [(lines[0].end_to_end_id, "RJCT", "AC01"), ("REL-1999-000001-1", "RJCT", "AC01")]
        )
    with pytest.raises(PaymentError) as refused:
        services.import_pain002(batch=batch, file=content, by=operator)
    assert refused.value.code == code
    assert not PaymentBatchLine.objects.filter(status=LineStatus.REJECTED).exists()
    assert set(statuses(*statements)) == {StatementStatus.IN_BATCH}


def test_a_report_on_a_batch_not_sent_is_refused(operator):
    statement_to_pay()
    batch = services.create_batch(by=operator).batch
    line = batch.lines.get()
    with pytest.raises(PaymentError) as refused:
        services.import_pain002(
            batch=batch, file=pain002(batch.message_id, [(line.end_to_end_id, "RJCT", "AC01")]), by=operator
        )
    assert refused.value.code == "batch_not_sent"


def test_without_a_debtor_account_no_batch_is_made(operator, settings):
    statement_to_pay()
    settings.PASSNUM_DEBTOR_IBAN = ""
    with pytest.raises(PaymentError) as refused:
        services.create_batch(by=operator)
    assert refused.value.code == "debtor_not_configured" and not PaymentBatch.objects.exists()


def _queries_of(action):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def test_making_and_paying_a_batch_costs_the_same_queries_for_one_statement_or_five(operator):
    """Set-based: the payee accounts in one query, the lines in one INSERT, one status move (UPDATE,
    log, audit) for all the statements of the batch."""
    counts = []
    for size in (1, 5):
        statements = [statement_to_pay() for _ in range(size)]
        statement_to_pay(payee=None)  # held back, at no extra cost either
        created = []
        counts.append(_queries_of(lambda created=created: created.append(services.create_batch(by=operator).batch)))
        batch = created[0]
        services.mark_batch_sent(batch=batch, by=operator)
        counts.append(_queries_of(lambda batch=batch: services.mark_batch_paid(batch=batch, by=operator)))
        assert statuses(*statements) == [StatementStatus.PAID] * size
        assert AuditLog.objects.filter(action="clearing.statement.status").count() >= 2 * size
        for statement in statements:
            assert [c.to_status for c in statement.status_changes.all()] == ["issued", "in_batch", "paid"]
    first_create, first_paid, second_create, second_paid = counts
    assert (second_create, second_paid) == (first_create, first_paid)

"""A transfer the bank sends back after its batch was marked paid (a return), typed in by the
operator or read from a late pain.002: the statement is to pay again, the account paid is to verify
again, and a later batch pays the statement once the account is fixed and verified. The ledger
shows the money owed again and stays balanced; audited; the site is told by e-mail; the operator's
console asks for confirmation first."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from clearing.models import Statement, StatementStatus
from clearing.payees.models import PayeeAccount, PayeeStatus
from clearing.payees.services import set_payee_account, verify_payee_account
from clearing.payments import services
from clearing.payments.models import LineStatus, PaymentBatchLine
from clearing.payments.services import PaymentError
from clearing.selectors import ledger
from passnum.audit.models import AuditLog
from tests.clearing.payments.factories import pain002, statement_to_pay
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_IBAN = "FR1420041010050500013M02606"
LINES = "admin:payments_paymentbatchline_changelist"


@pytest.fixture
def operator(db):
    return UserFactory(staff=True)


def paid_statement(operator, *, passes=2):
    """A statement paid by a batch sent then marked paid; the site has a finance member."""
    statement = statement_to_pay(passes=passes)
    finance = MembershipFactory(organisation=statement.site.organisation, finance=True).user
    batch = services.create_batch(statements=[statement], by=operator).batch
    services.mark_batch_sent(batch=batch, by=operator)
    services.mark_batch_paid(batch=batch, by=operator)
    return Statement.objects.get(pk=statement.pk), batch.lines.get(), finance


def the_ledger_of(statement):
    (line,) = [line for line in ledger() if line.programme_id == statement.lines.get().programme_id] or [None]
    return line


def test_a_return_after_payment_puts_the_statement_back_to_pay_and_the_ledger_shows_it(
    operator, django_capture_on_commit_callbacks
):
    statement, line, finance = paid_statement(operator, passes=1)
    before = the_ledger_of(statement)
    assert before.paid_to_sites == statement.redemptions_cents and before.returned_by_bank == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.record_return(line=line, reason_code="ac04", by=operator)

    line.refresh_from_db()
    assert (line.status, line.reason_code) == (LineStatus.RETURNED, "AC04") and line.rejected_at
    statement.refresh_from_db()
    assert statement.status == StatementStatus.TO_PAY
    assert [c.to_status for c in statement.status_changes.all()][-3:] == ["paid", "rejected", "to_pay"]
    assert any("retourné par la banque après paiement (AC04)" in c.reason for c in statement.status_changes.all())
    assert AuditLog.objects.filter(action="payments.line.returned", target_id=str(line.pk)).exists()
    (sent,) = mail.outbox
    assert sent.to == [finance.email] and statement.number in sent.subject
    assert "Compte clôturé (code AC04)" in sent.body
    assert "/site/compte-bancaire/" in sent.body

    after = the_ledger_of(statement)
    assert (after.paid_to_sites, after.returned_by_bank) == (0, statement.redemptions_cents)
    assert after.settled == before.settled and all(line.is_balanced for line in ledger())
    out = StringIO()
    call_command("check_ledger", stdout=out)  # exits non-zero on any gap
    assert "retourné par la banque après paiement" in out.getvalue()

    # The account the money came back from is to verify again: the next batch holds the site back.
    assert PayeeAccount.objects.get(pk=line.payee_account_id).status == PayeeStatus.TO_VERIFY
    assert AuditLog.objects.filter(action="payee_account.unverified", target_id=str(line.payee_account_id)).exists()
    with pytest.raises(PaymentError) as refused:
        services.create_batch(by=operator)
    assert refused.value.details["held_back"][0]["code"] == "payee_not_verified"
    # The site fixes its account; until the operator verifies it, the next batch holds it back.
    new = set_payee_account(
        organisation=statement.site.organisation,
        by=None,
        payee_kind="self",
        holder_name="Association corrigée",
        iban=NEW_IBAN,
        bic="PSSTFRPPXXX",
    )
    with pytest.raises(PaymentError) as refused:
        services.create_batch(by=operator)
    assert refused.value.details["held_back"][0]["code"] == "payee_not_verified"
    verify_payee_account(account=new, by=operator)
    again = services.create_batch(by=operator).batch
    assert again.lines.get().iban == NEW_IBAN and again.lines.get().statement == statement
    services.mark_batch_sent(batch=again, by=operator)
    services.mark_batch_paid(batch=again, by=operator)
    final = the_ledger_of(statement)
    assert (final.paid_to_sites, final.returned_by_bank) == (statement.redemptions_cents, 0)
    assert all(line.is_balanced for line in ledger())


def test_a_return_is_refused_before_payment_and_twice(operator):
    statement = statement_to_pay()
    batch = services.create_batch(by=operator).batch
    services.mark_batch_sent(batch=batch, by=operator)
    with pytest.raises(PaymentError) as refused:
        services.record_return(line=batch.lines.get(), reason_code="AC04", by=operator)
    assert refused.value.code == "batch_not_paid"
    services.mark_batch_paid(batch=batch, by=operator)
    with pytest.raises(PaymentError) as refused:
        services.record_return(line=batch.lines.get(), reason_code="ZZ00", by=operator)
    assert refused.value.code == "rejection_reason_unknown"
    services.record_return(line=batch.lines.get(), reason_code="AC04", by=operator)
    with pytest.raises(PaymentError) as refused:
        services.record_return(line=batch.lines.get(), reason_code="AC04", by=operator)
    assert refused.value.code == "line_not_paid"
    assert Statement.objects.get(pk=statement.pk).status == StatementStatus.TO_PAY


def test_the_database_lets_a_paid_transfer_become_returned_and_nothing_else(operator):
    from django.db import transaction

    _statement, line, _finance = paid_statement(operator)
    with pytest.raises(Exception, match="payment_line_outcome_final"), transaction.atomic():
        PaymentBatchLine.objects.filter(pk=line.pk).update(status=LineStatus.REJECTED)
    PaymentBatchLine.objects.filter(pk=line.pk).update(status=LineStatus.RETURNED)
    with pytest.raises(Exception, match="payment_line_outcome_final"), transaction.atomic():
        PaymentBatchLine.objects.filter(pk=line.pk).update(status=LineStatus.PAID)


def test_a_late_pain002_on_a_paid_batch_records_returns(operator, django_capture_on_commit_callbacks):
    statement, line, _finance = paid_statement(operator)
    report = pain002(line.batch.message_id, [(line.end_to_end_id, "RJCT", "MD07")])
    with django_capture_on_commit_callbacks(execute=True):
        result = services.import_pain002(batch=line.batch, file=report, by=operator)
    assert result.rejected == [line.end_to_end_id]
    assert PaymentBatchLine.objects.get(pk=line.pk).status == LineStatus.RETURNED
    assert Statement.objects.get(pk=statement.pk).status == StatementStatus.TO_PAY
    assert len(mail.outbox) == 1
    again = services.import_pain002(batch=line.batch, file=report, by=operator)
    assert (again.rejected, again.already_rejected) == ([], 1)


def test_the_operator_records_a_return_after_confirmation(client, operator_user):
    statement, line, _finance = paid_statement(operator_user)
    client.force_login(operator_user)
    select = {"action": "record_return", "_selected_action": [line.pk]}
    asked = client.post(reverse(LINES), select).content.decode()
    assert "Enregistrer le retour" in asked and "AC04" in asked
    assert PaymentBatchLine.objects.get(pk=line.pk).status == LineStatus.PAID  # the page changes nothing
    response = client.post(reverse(LINES), {**select, "confirm": "yes", "reason_code": "AC04"}, follow=True)
    assert "retourné" in response.content.decode()
    assert PaymentBatchLine.objects.get(pk=line.pk).status == LineStatus.RETURNED
    assert Statement.objects.get(pk=statement.pk).status == StatementStatus.TO_PAY

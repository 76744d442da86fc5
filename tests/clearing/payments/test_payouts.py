"""Payout orders: money owed outside the sites' statements (a grant's accepted instalment, …),
ordered once by the app that owes it, paid by the same SEPA batches as the statements to the payee
organisation's verified account, held back without one, paid again after a rejection or a return.
Nothing here depends on the organisation's kind."""

import xml.etree.ElementTree as ET  # noqa: S405 - our own file

import pytest
from django.core import mail
from django.db import IntegrityError, ProgrammingError, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clearing.models import StatementStatus
from clearing.payees.models import PayeeAccount, PayeeStatus
from clearing.payees.services import verify_payee_account
from clearing.payments import selectors, services
from clearing.payments.models import LineStatus, PaymentBatchLine, PayoutOrder, PayoutStatus
from clearing.payments.services import PaymentError
from passnum.audit.models import AuditLog
from tests.clearing.payees.factories import VALID_BIC, VALID_IBAN, PayeeAccountFactory
from tests.clearing.payments.factories import pain002, sepa_content, statement_to_pay, xsd_errors
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
INSTALMENT = "grant_instalment"


@pytest.fixture
def operator(db):
    return UserFactory(staff=True)


def company(*, payee=PayeeStatus.VERIFIED, **fields):
    """An organisation paid outside the statements (a sponsor here: the kind does not matter),
    with its payee account verified (``payee=None``: no account at all)."""
    organisation = OrganisationFactory(**fields)
    if payee is not None:
        PayeeAccountFactory(organisation=organisation, status=payee, holder_name="Menuiserie Océane SARL")
    return organisation


def order(organisation, *, source_id=1, amount_cents=450_000, reference="PNE-2026-0001-V1", by=None, **fields):
    return services.schedule_payout(
        organisation=organisation,
        amount_cents=amount_cents,
        source_kind=fields.pop("source_kind", INSTALMENT),
        source_id=source_id,
        reference=reference,
        label=fields.pop("label", "Pass numérique entreprise — 1er versement"),
        by=by,
        **fields,
    )


def status_of(payout):
    return PayoutOrder.objects.get(pk=payout.pk).status


def transactions(batch):
    root = ET.fromstring(sepa_content(batch))  # noqa: S314
    return {
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS): tx
        for tx in root.iterfind("p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf", namespaces=NS)
    }


# --- ordering ------------------------------------------------------------------------------------


def test_ordering_the_same_thing_again_returns_the_same_order_and_other_terms_are_refused(operator):
    organisation = company()
    first = order(organisation, by=operator)

    assert (first.status, first.amount_cents, first.reference) == (PayoutStatus.PENDING, 450_000, "PNE-2026-0001-V1")
    assert order(organisation, by=operator).pk == first.pk
    assert PayoutOrder.objects.count() == 1
    assert AuditLog.objects.filter(action="payments.payout.scheduled", target_id=str(first.pk)).count() == 1

    for other_terms in (
        {"amount_cents": 450_001},
        {"reference": "PNE-2026-0001-V2"},
        {"label": "Autre objet"},
    ):
        with pytest.raises(PaymentError) as refused:
            order(organisation, by=operator, **other_terms)
        assert refused.value.code == "payout_already_ordered" and refused.value.details["payout_id"] == first.pk
    with pytest.raises(PaymentError) as refused:
        services.schedule_payout(
            organisation=company(),
            amount_cents=450_000,
            source_kind=INSTALMENT,
            source_id=1,
            reference="PNE-2026-0001-V1",
            label="Pass numérique entreprise — 1er versement",
            by=operator,
        )
    assert refused.value.code == "payout_already_ordered"
    # Another thing of the same kind, or the same id of another kind, is another order.
    assert order(organisation, source_id=2).pk != first.pk
    assert order(organisation, source_kind="other_kind").pk != first.pk
    assert PayoutOrder.objects.get(pk=first.pk).amount_cents == 450_000


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"amount_cents": 0}, "payout_amount_invalid"),
        ({"amount_cents": -100}, "payout_amount_invalid"),
        ({"amount_cents": 12.5}, "payout_amount_invalid"),
        ({"amount_cents": "4500"}, "payout_amount_invalid"),
        ({"amount_cents": True}, "payout_amount_invalid"),
        ({"source_id": 0}, "payout_source_invalid"),
        ({"source_kind": "Versement de subvention"}, "payout_source_invalid"),
        ({"reference": ""}, "payout_reference_invalid"),
        ({"reference": "Réf-accentuée"}, "payout_reference_invalid"),
        ({"reference": "X" * 36}, "payout_reference_invalid"),
        ({"label": "   "}, "payout_label_invalid"),
        ({"label": "x" * 141}, "payout_label_invalid"),
    ],
)
def test_bad_terms_are_refused_and_nothing_is_ordered(operator, terms, code):
    with pytest.raises(PaymentError) as refused:
        order(company(), by=operator, **terms)
    assert refused.value.code == code and refused.value.message
    assert not PayoutOrder.objects.exists()


def test_an_order_is_never_changed_nor_deleted_in_the_database(operator):
    payout = order(company(), by=operator)

    def refused_by_database(action):
        with pytest.raises(ProgrammingError) as refused, transaction.atomic():
            action()
        assert "pgtrigger: Cannot" in str(refused.value)

    refused_by_database(lambda: PayoutOrder.objects.filter(pk=payout.pk).update(amount_cents=1))
    refused_by_database(lambda: PayoutOrder.objects.filter(pk=payout.pk).update(organisation=company()))
    refused_by_database(lambda: PayoutOrder.objects.filter(pk=payout.pk).update(reference="AUTRE"))
    refused_by_database(lambda: PayoutOrder.objects.filter(pk=payout.pk)._raw_delete("default"))
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutOrder.objects.create(
            organisation=payout.organisation,
            amount_cents=0,
            reference="ZERO",
            label="Rien",
            source_kind=INSTALMENT,
            source_id=99,
            created_at=payout.created_at,
        )
    # Only its status moves (what the batches do).
    PayoutOrder.objects.filter(pk=payout.pk).update(status=PayoutStatus.IN_BATCH)
    assert (status_of(payout), PayoutOrder.objects.get(pk=payout.pk).amount_cents) == (PayoutStatus.IN_BATCH, 450_000)


# --- paying --------------------------------------------------------------------------------------


def test_a_payout_joins_the_batch_with_the_statements_and_is_in_the_pain001(operator):
    statement = statement_to_pay(passes=2)
    organisation = company()
    payout = order(organisation, reference="PNE-2026-0007-V1", amount_cents=812_345)
    assert list(selectors.payouts_to_pay()) == [payout]

    batch = services.create_batch(by=operator).batch

    assert batch.line_count == 2 and batch.total_cents == statement.total_cents + 812_345
    line = batch.lines.get(payout=payout)
    account = PayeeAccount.objects.get(organisation=organisation)
    assert (line.organisation, line.payee_account, line.iban, line.bic, line.amount_cents, line.statement) == (
        organisation,
        account,
        VALID_IBAN,
        VALID_BIC,
        812_345,
        None,
    )
    assert line.end_to_end_id == f"ORD-{payout.pk}-{batch.pk}" and len(line.end_to_end_id) <= 35
    assert status_of(payout) == PayoutStatus.IN_BATCH and list(selectors.payouts_to_pay()) == []
    assert type(statement).objects.get(pk=statement.pk).status == StatementStatus.IN_BATCH

    content = sepa_content(batch)
    assert xsd_errors(content) == []
    tx = transactions(batch)[line.end_to_end_id]
    assert tx.findtext("p:Amt/p:InstdAmt", namespaces=NS) == "8123.45"
    assert tx.find("p:Amt/p:InstdAmt", namespaces=NS).get("Ccy") == "EUR"
    assert tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == VALID_IBAN
    assert tx.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == VALID_BIC
    assert tx.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Menuiserie Oceane SARL"
    remittance = tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS)
    assert remittance.startswith("PNE-2026-0007-V1") and remittance == line.remittance_info
    assert remittance == "PNE-2026-0007-V1 - Pass numerique entreprise 1er versement"
    assert statement.number in transactions(batch)[f"{statement.number}-{batch.pk}"].findtext(
        "p:RmtInf/p:Ustrd", namespaces=NS
    )
    audit = AuditLog.objects.get(action="payments.batch.created", target_id=str(batch.pk))
    assert audit.after["payouts"] == ["PNE-2026-0007-V1"] and audit.after["statements"] == [statement.number]

    state = selectors.payout_status(source_kind=INSTALMENT, source_id=1)
    assert (state.status, state.batch_message_id, state.is_paid) == (PayoutStatus.IN_BATCH, batch.message_id, False)
    services.mark_batch_sent(batch=batch, by=operator)
    services.mark_batch_paid(batch=batch, by=operator)
    batch.refresh_from_db()
    state = selectors.payout_status(source_kind=INSTALMENT, source_id=1)
    assert (state.status, state.is_paid, state.paid_at) == (PayoutStatus.PAID, True, batch.paid_at)
    assert batch.lines.get(payout=payout).status == LineStatus.PAID
    assert selectors.payout_status(source_kind=INSTALMENT, source_id=2) is None


def test_a_payee_without_a_verified_account_is_held_back_with_the_reason(operator):
    unverified = order(company(payee=PayeeStatus.TO_VERIFY), source_id=1, reference="PNE-1")
    missing = order(company(payee=None), source_id=2, reference="PNE-2")

    held = {(entry["payout"], entry["code"]) for entry in selectors.held_back_payees()}
    assert held == {("PNE-1", "payee_not_verified"), ("PNE-2", "payee_missing")}
    with pytest.raises(PaymentError) as refused:
        services.create_batch(by=operator)
    assert refused.value.code == "nothing_to_pay" and "attendent un compte bancaire vérifié" in refused.value.message
    assert {entry["payout_id"] for entry in refused.value.details["held_back"]} == {unverified.pk, missing.pk}

    statement = statement_to_pay()
    result = services.create_batch(by=operator)
    assert [line.statement for line in result.batch.lines.all()] == [statement]
    assert {(e["payout"], e["code"]) for e in result.held_back} == held
    assert result.batch.held_back == result.held_back
    assert status_of(unverified) == status_of(missing) == PayoutStatus.PENDING

    verify_payee_account(account=PayeeAccount.objects.get(organisation=unverified.organisation), by=operator)
    assert services.create_batch(by=operator).batch.lines.get().payout == unverified


def test_given_lists_pay_only_what_is_given(operator):
    statement = statement_to_pay()
    first, second = order(company(), source_id=1, reference="A"), order(company(), source_id=2, reference="B")

    batch = services.create_batch(payouts=[second], by=operator).batch
    assert [line.payout for line in batch.lines.all()] == [second]
    assert (status_of(first), type(statement).objects.get(pk=statement.pk).status) == (
        PayoutStatus.PENDING,
        StatementStatus.ISSUED,
    )
    with pytest.raises(PaymentError) as refused:
        services.create_batch(payouts=[second], by=operator)
    assert refused.value.code == "payout_already_in_batch"
    # The statements given, without payouts: the payout orders wait.
    assert [
        line.statement for line in services.create_batch(statements=[statement], by=operator).batch.lines.all()
    ] == [statement]
    assert status_of(first) == PayoutStatus.PENDING


def test_the_database_refuses_a_second_live_line_for_a_payout_and_a_line_paying_two_things(operator):
    payout = order(company())
    statement = statement_to_pay()
    batch = services.create_batch(payouts=[payout], by=operator).batch
    line = batch.lines.get()
    copy = {
        field: getattr(line, field)
        for field in ("batch", "organisation", "payee_account", "holder_name", "iban", "bic", "amount_cents")
    }

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        PaymentBatchLine.objects.create(**copy, end_to_end_id="ORD-X-1", payout=payout, remittance_info="x")
    assert "payment_line_one_live_per_payout" in str(refused.value)
    other = order(company(), source_id=3, reference="AUTRE")
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        PaymentBatchLine.objects.create(
            **copy, end_to_end_id="ORD-X-2", payout=other, statement=statement, remittance_info="x"
        )
    assert "payment_line_pays_one_thing" in str(refused.value)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        PaymentBatchLine.objects.create(**copy, end_to_end_id="ORD-X-3", remittance_info="x")
    assert "payment_line_pays_one_thing" in str(refused.value)
    with pytest.raises(ProgrammingError), transaction.atomic():
        PaymentBatchLine.objects.filter(pk=line.pk).update(payout=order(company(), source_id=5, reference="Z"))
    # A rejected transfer frees the order: a later line may pay it.
    services.mark_batch_sent(batch=batch, by=operator)
    services.record_rejection(line=line, reason_code="AC01", by=operator)
    PaymentBatchLine.objects.create(**copy, end_to_end_id="ORD-X-4", payout=payout, remittance_info="x")


def test_a_rejected_payout_is_paid_again_by_the_next_batch(operator):
    organisation = company()
    payout = order(organisation)
    batch = services.create_batch(by=operator).batch
    services.mark_batch_sent(batch=batch, by=operator)
    line = batch.lines.get()
    services.import_pain002(
        batch=batch, file=pain002(batch.message_id, [(line.end_to_end_id, "RJCT", "AC06")]), by=operator
    )

    line.refresh_from_db()
    assert (line.status, line.reason_code) == (LineStatus.REJECTED, "AC06")
    assert status_of(payout) == PayoutStatus.TO_PAY_AGAIN and list(selectors.payouts_to_pay()) == [payout]
    state = selectors.payout_status(source_kind=INSTALMENT, source_id=1)
    assert (state.status, state.rejection_reason) == (PayoutStatus.TO_PAY_AGAIN, "Compte bloqué")
    services.mark_batch_paid(batch=batch, by=operator)
    assert status_of(payout) == PayoutStatus.TO_PAY_AGAIN  # a rejected transfer is not paid

    again = services.create_batch(by=operator).batch
    new_line = again.lines.get()
    assert (new_line.payout, new_line.amount_cents, new_line.end_to_end_id) == (
        payout,
        450_000,
        f"ORD-{payout.pk}-{again.pk}",
    )
    assert f"ORD-{payout.pk}-{again.pk}" in transactions(again)
    services.mark_batch_sent(batch=again, by=operator)
    services.mark_batch_paid(batch=again, by=operator)
    assert status_of(payout) == PayoutStatus.PAID
    assert [line.status for line in payout.payment_lines.order_by("pk")] == [LineStatus.REJECTED, LineStatus.PAID]


def test_a_returned_payout_tells_the_payee_and_waits_for_its_account_to_be_verified(
    operator, django_capture_on_commit_callbacks
):
    organisation = company()
    finance = MembershipFactory(organisation=organisation, finance=True).user
    payout = order(organisation)
    batch = services.create_batch(by=operator).batch
    services.mark_batch_sent(batch=batch, by=operator)
    services.mark_batch_paid(batch=batch, by=operator)
    line = batch.lines.get()

    with django_capture_on_commit_callbacks(execute=True):
        services.record_return(line=line, reason_code="AC04", by=operator)

    assert status_of(payout) == PayoutStatus.TO_PAY_AGAIN
    assert PayoutOrder.objects.get(pk=payout.pk).paid_at is None
    assert AuditLog.objects.filter(action="payments.line.returned", target_id=str(line.pk)).exists()
    (sent,) = mail.outbox
    assert sent.to == [finance.email] and "PNE-2026-0001-V1" in sent.subject
    assert "4\u202f500,00 €" in sent.body and "Compte clôturé (code AC04)" in sent.body
    assert "relevé" not in sent.body.lower()
    account = PayeeAccount.objects.get(organisation=organisation)
    assert account.status == PayeeStatus.TO_VERIFY
    with pytest.raises(PaymentError) as refused:
        services.create_batch(by=operator)
    assert refused.value.details["held_back"][0]["code"] == "payee_not_verified"
    verify_payee_account(account=account, by=operator)
    assert services.create_batch(by=operator).batch.lines.get().payout == payout


def test_making_a_batch_costs_the_same_queries_for_one_payout_or_five(operator):
    from django.db import connection

    def queries_for(count, offset):
        for n in range(count):
            order(company(), source_id=offset + n, reference=f"PNE-{offset + n}")
        with CaptureQueriesContext(connection) as captured:
            batch = services.create_batch(by=operator).batch
        services.mark_batch_sent(batch=batch, by=operator)
        with CaptureQueriesContext(connection) as paid:
            services.mark_batch_paid(batch=batch, by=operator)
        return len(captured), len(paid)

    assert queries_for(1, 100) == queries_for(5, 200)


# --- the operator's console ----------------------------------------------------------------------


def test_the_console_lists_payout_orders_and_pays_them(client, operator_user, django_assert_max_num_queries):
    held = order(company(payee=PayeeStatus.TO_VERIFY), source_id=1, reference="PNE-RETENU")
    payout = order(company(), source_id=2, reference="PNE-PAYE")
    client.force_login(operator_user)

    page = client.get(reverse("admin:payments_paymentbatch_create")).content.decode()
    assert "PNE-PAYE" in page and "ordre de paiement PNE-RETENU" in page and "pas encore vérifié" in page
    assert "<caption>Ordres de paiement à payer (hors relevés)</caption>" in page
    client.post(reverse("admin:payments_paymentbatch_create"))
    line = PaymentBatchLine.objects.get()
    assert line.payout == payout and status_of(held) == PayoutStatus.PENDING
    detail = client.get(reverse("admin:payments_paymentbatch_change", args=[line.batch_id])).content.decode()
    assert "PNE-PAYE" in detail and "ordre de paiement PNE-RETENU" in detail

    for n in range(3, 8):
        order(company(), source_id=n, reference=f"PNE-{n}")
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("admin:payments_payoutorder_changelist"))
    assert listing.status_code == 200 and "PNE-PAYE" in listing.content.decode()
    filtered = client.get(reverse("admin:payments_payoutorder_changelist"), {"status__exact": "in_batch"})
    assert "PNE-PAYE" in filtered.content.decode() and "PNE-RETENU" not in filtered.content.decode()
    found = client.get(reverse("admin:payments_payoutorder_changelist"), {"q": "RETENU"}).content.decode()
    assert "PNE-RETENU" in found and "PNE-PAYE" not in found
    change = client.get(reverse("admin:payments_payoutorder_change", args=[payout.pk])).content.decode()
    assert line.end_to_end_id in change
    assert client.get(reverse("admin:payments_payoutorder_add")).status_code == 403

    select = {"action": "record_rejection", "_selected_action": [line.pk]}
    client.post(
        reverse("admin:payments_paymentbatch_changelist"),
        {"action": "mark_sent", "_selected_action": [line.batch_id], "confirm": "yes"},
    )
    asked = client.post(reverse("admin:payments_paymentbatchline_changelist"), select).content.decode()
    assert "ordre de paiement PNE-PAYE" in asked
    client.post(
        reverse("admin:payments_paymentbatchline_changelist"), {**select, "confirm": "yes", "reason_code": "AC01"}
    )
    assert status_of(payout) == PayoutStatus.TO_PAY_AGAIN

"""A granted instalment, from its acceptance to the money on the company's account: a payout
order joins the same SEPA batches as the sites' statements, to the company's verified account;
the batch's execution marks the instalment paid, a return from the bank makes it unpaid again."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearing.payees.models import PayeeAccount, PayeeStatus
from clearing.payees.services import verify_payee_account
from clearing.payments import services as payments
from clearing.payments.models import PayoutOrder, PayoutStatus
from sponsors.grants import selectors, services
from sponsors.grants.enums import InstalmentStatus
from tests.clearing.payees.factories import VALID_BIC, VALID_IBAN, PayeeAccountFactory
from tests.clearing.payments.factories import sepa_content, xsd_errors
from tests.factories import MembershipFactory, UserFactory
from tests.sponsors.grants.factories import PDF, GrantApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(staff=True)


def accepted_instalment(member_of, *, amount_cents=400_000):
    application = GrantApplicationFactory(granted=True, documents=[])
    sponsor = application.scheme.sponsor
    instalment = services.submit_instalment(
        application=application,
        by=member_of(application.company),
        line=application.lines.first(),
        invoice_number="F-2026-17",
        amount_cents=amount_cents,
        uploaded=SimpleUploadedFile("facture.pdf", PDF),
    )
    return services.accept_instalment(instalment=instalment, by=member_of(sponsor), sponsor=sponsor)


def test_an_accepted_instalment_is_paid_by_a_sepa_batch_to_the_company_verified_account(
    member_of, operator, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    instalment = accepted_instalment(member_of)
    application = instalment.application
    order = PayoutOrder.objects.get(source_kind=services.PAYOUT_SOURCE, source_id=instalment.pk)
    assert (order.organisation, order.amount_cents, order.status) == (application.company, 400_000, "pending")
    assert instalment.payment_reference == order.reference == f"{application.reference}-V{instalment.pk}"

    # No account yet: the order waits, held back with the reason; nothing is paid.
    with pytest.raises(payments.PaymentError) as refused:
        payments.create_batch(by=operator)
    assert refused.value.details["held_back"][0]["code"] == "payee_missing"
    PayeeAccountFactory(organisation=application.company, status=PayeeStatus.VERIFIED, holder_name="Menuiserie SARL")

    batch = payments.create_batch(by=operator).batch
    assert batch.lines.get().payout == order
    content = sepa_content(batch)
    assert xsd_errors(content) == []
    assert order.reference.encode() in content and b"<InstdAmt Ccy=\"EUR\">4000.00</InstdAmt>" in content
    payments.mark_batch_sent(batch=batch, by=operator)
    payments.mark_batch_paid(batch=batch, by=operator)

    instalment.refresh_from_db()
    assert instalment.status == InstalmentStatus.PAID and instalment.paid_at is not None
    assert selectors.report(sponsor=application.scheme.sponsor)["totals"]["paid"] == 400_000

    # The bank returns the transfer: the instalment is no longer paid, the next batch pays it again.
    payments.record_return(line=batch.lines.get(), reason_code="AC04", by=operator)
    instalment.refresh_from_db()
    assert instalment.status == InstalmentStatus.ACCEPTED and instalment.paid_at is None
    assert PayoutOrder.objects.get(pk=order.pk).status == PayoutStatus.TO_PAY_AGAIN
    verify_payee_account(account=PayeeAccount.objects.get(organisation=application.company), by=operator)
    again = payments.create_batch(by=operator).batch
    payments.mark_batch_sent(batch=again, by=operator)
    payments.mark_batch_paid(batch=again, by=operator)
    instalment.refresh_from_db()
    assert instalment.status == InstalmentStatus.PAID


def test_the_company_administrator_records_the_account_and_a_member_only_sees_it(client, member_of):
    application = GrantApplicationFactory(granted=True, documents=[])
    company = application.company
    client.force_login(member_of(company, role="admin"))
    page = client.get(reverse("grants:company_bank"))
    assert page.status_code == 200 and "Enregistrer le compte" in page.content.decode()
    wrong = client.post(reverse("grants:company_bank"), {"holder_name": "Menuiserie", "iban": "FR76 1234", "bic": "X"})
    assert wrong.status_code == 200 and not PayeeAccount.objects.filter(organisation=company).exists()
    saved = client.post(
        reverse("grants:company_bank"), {"holder_name": "Menuiserie SARL", "iban": VALID_IBAN, "bic": VALID_BIC}
    )
    assert saved.status_code == 302
    account = PayeeAccount.objects.get(organisation=company)
    assert account.status == PayeeStatus.TO_VERIFY and account.payee_kind == "self"

    member = MembershipFactory(organisation=company).user
    client.force_login(member)
    shown = client.get(reverse("grants:company_bank")).content.decode()
    assert account.masked_iban in shown and "Enregistrer le compte" not in shown
    assert client.post(reverse("grants:company_bank"), {"holder_name": "X"}).status_code == 403

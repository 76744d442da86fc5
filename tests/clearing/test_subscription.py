"""The yearly subscription: an invoice ABO-YYYY-NNNNNN with VAT and its PDF; deducted from the
statement when the site chose so and the statement can carry it."""

import io

import pytest
from pypdf import PdfReader

from clearing import services
from clearing.models import Adjustment, Statement, SubscriptionInvoice
from mediators.qualification.models import SubscriptionStatus
from tests.clearing.factories import paris, redeeming_site, redemptions_in
from tests.factories import MembershipFactory
from tests.mediators.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

AFTER_OCTOBER = paris(2026, 11, 1, 2)


def test_invoice_numbered_with_vat_pdf_and_mail(django_capture_on_commit_callbacks, mailoutbox):
    place = redeeming_site()
    subscription = SubscriptionFactory(site=place.site, year=2026, amount_cents=7700)
    MembershipFactory(organisation=place.organisation, role="admin")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.issue_subscription_invoices(now=paris(2026, 3, 1)) == 1
    invoice = SubscriptionInvoice.objects.get(subscription=subscription)
    assert invoice.number == "ABO-2026-000001"
    assert (invoice.amount_cents, invoice.vat_cents, invoice.total_cents) == (7700, 1540, 9240)
    assert services.issue_subscription_invoice(subscription=subscription) == invoice  # once only
    assert services.issue_subscription_invoices() == 0
    with invoice.pdf.open("rb") as handle:
        text = PdfReader(io.BytesIO(handle.read())).pages[0].extract_text()
    assert invoice.number in text and "92,40" in text
    assert [m.attachments[0][0] for m in mailoutbox] == [f"{invoice.number}.pdf"]


def test_a_site_that_opted_in_has_its_subscription_deducted_once(client, operator_user):
    place = redeeming_site()
    subscription = SubscriptionFactory(site=place.site, year=2026)
    admin = MembershipFactory(organisation=place.organisation, role="admin").user
    client.force_login(admin)
    response = client.post("/site/releves/abonnement/", {"enabled": "1"})
    assert response.status_code == 302
    redemptions = redemptions_in(place, paris(2026, 10, 5), count=10)
    gross = sum(r.amount_cents for r in redemptions)

    statement = Statement.objects.get(number=services.close_month(month="2026-10", now=AFTER_OCTOBER).numbers[0])

    invoice = SubscriptionInvoice.objects.get(subscription=subscription)
    assert statement.subscription_invoice == invoice
    assert statement.subscription_netted_cents == invoice.total_cents == 9240
    assert statement.total_cents == gross - 9240
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAID

    # Voided: the redemptions come back in full, and the subscription is taken back by an adjustment.
    services.void_statement(statement=statement, reason="Erreur de montant", by=operator_user)
    taken_back = Adjustment.objects.get(statement__isnull=True)
    assert taken_back.amount_cents == -9240 and invoice.number in taken_back.reason
    again = Statement.objects.get(number=services.close_month(month="2026-11", now=paris(2026, 12, 1, 2)).numbers[0])
    assert again.subscription_netted_cents == 0 and again.adjustments_cents == -9240
    assert again.total_cents == gross - 9240


def test_no_deduction_without_the_choice_or_when_the_statement_is_too_small():
    place = redeeming_site()
    SubscriptionFactory(site=place.site, year=2026)
    redemptions_in(place, paris(2026, 10, 5), count=2)
    statement = Statement.objects.get(number=services.close_month(month="2026-10", now=AFTER_OCTOBER).numbers[0])
    assert statement.subscription_netted_cents == 0 and not SubscriptionInvoice.objects.exists()

    services.set_subscription_netting(site=place.site, enabled=True, by=place.user)
    redemptions_in(place, paris(2026, 11, 5), count=2)  # 20 €: less than the 92,40 € invoice
    small = Statement.objects.get(number=services.close_month(month="2026-11", now=paris(2026, 12, 1, 2)).numbers[0])
    assert small.subscription_netted_cents == 0 and small.total_cents == small.redemptions_cents


def test_only_the_admin_or_a_finance_member_chooses(client):
    place = redeeming_site()  # place.user is a plain member
    client.force_login(place.user)
    client.post("/site/releves/abonnement/", {"enabled": "1"})
    from clearing.selectors import nets_subscription

    assert not nets_subscription(site=place.site)

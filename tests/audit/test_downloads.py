"""Every file handed out from an organisation's own space, its API or the operator's console is
in the audit log: one entry per file (who, for which organisation, which file, when), written
before the bytes leave. Open data is public and not logged."""

import datetime
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from clearing.payments import services as payment_services
from passnum.audit.models import AuditLog
from passnum.organisations.services import create_api_token
from tests.clearing.factories import CreditNoteFactory, StatementFactory, SubscriptionInvoiceFactory
from tests.clearing.payments.factories import statement_to_pay
from tests.mediators.factories import SiteFactory, SupportingDocumentFactory
from tests.sponsors.factories import SponsorInvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Expected:
    action: str
    actor: object
    organisation: object  # None: the file is no single organisation's (a SEPA batch)
    file: str
    target: object = None  # None: the file is no stored object (an export)


def _get(client, user, url, data=None):
    client.force_login(user)
    return client.get(url, data)


def _admin_action(client, user, changelist, action, obj):
    client.force_login(user)
    return client.post(reverse(changelist), {"action": action, "_selected_action": [obj.pk]})


# --- the organisations' spaces --------------------------------------------------------------------


def sponsor_invoice(client, member_of, operator):
    invoice = SponsorInvoiceFactory()
    user = member_of(invoice.sponsor, role="member")
    response = _get(client, user, reverse("sponsors:invoice_pdf", args=[invoice.pk]))
    return response, Expected(
        "sponsors.sponsorinvoice.downloaded", user, invoice.sponsor, f"{invoice.number}.pdf", invoice
    )


def sponsor_credit_note(client, member_of, operator):
    note = CreditNoteFactory()
    user = member_of(note.sponsor, role="finance")
    response = _get(client, user, reverse("sponsors:credit_note_pdf", args=[note.pk]))
    return response, Expected("clearing.creditnote.downloaded", user, note.sponsor, f"{note.number}.pdf", note)


def site_statement(client, member_of, operator):
    statement = StatementFactory()
    organisation = statement.site.organisation
    user = member_of(organisation, role="member")
    response = _get(client, user, reverse("clearing:statement_pdf", args=[statement.number]))
    return response, Expected("clearing.statement.downloaded", user, organisation, f"{statement.number}.pdf", statement)


def site_statement_by_api(client, member_of, operator):
    statement = StatementFactory()
    organisation = statement.site.organisation
    user = member_of(organisation, role="admin")
    _token, key = create_api_token(organisation=organisation, user=user, name="logiciel de compta")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get(f"/api/v1/statements/{statement.number}/pdf")
    return response, Expected("clearing.statement.downloaded", user, organisation, f"{statement.number}.pdf", statement)


def site_subscription_invoice(client, member_of, operator):
    invoice = SubscriptionInvoiceFactory()
    organisation = invoice.site.organisation
    user = member_of(organisation, role="finance")
    response = _get(client, user, reverse("clearing:subscription_invoice_pdf", args=[invoice.number]))
    return response, Expected(
        "clearing.subscriptioninvoice.downloaded", user, organisation, f"{invoice.number}.pdf", invoice
    )


def site_redemptions_csv(client, member_of, operator):
    site = SiteFactory(qualified=True)
    user = member_of(site.organisation, role="member")
    month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    response = _get(client, user, reverse("mediators:redemptions"), {"month": f"{month:%Y-%m}", "format": "csv"})
    file = f"encaissements-{month:%Y-%m}.csv"
    return response, Expected("mediators.redemptions_csv.downloaded", user, site.organisation, file)


def site_supporting_document(client, member_of, operator):
    document = SupportingDocumentFactory(original_name="statuts-2026.pdf")
    organisation = document.site.organisation
    user = member_of(organisation, role="admin")
    response = _get(client, user, reverse("mediators:document_download", args=[document.pk]))
    return response, Expected(
        "mediators.supportingdocument.downloaded", user, organisation, "statuts-2026.pdf", document
    )


# --- the operator's console -----------------------------------------------------------------------


def admin_sponsor_invoice(client, member_of, operator):
    invoice = SponsorInvoiceFactory()
    response = _admin_action(client, operator, "admin:sponsors_sponsorinvoice_changelist", "download", invoice)
    return response, Expected(
        "sponsors.sponsorinvoice.downloaded", operator, invoice.sponsor, f"{invoice.number}.pdf", invoice
    )


def admin_statement(client, member_of, operator):
    statement = StatementFactory()
    response = _admin_action(client, operator, "admin:clearing_statement_changelist", "download", statement)
    return response, Expected(
        "clearing.statement.downloaded", operator, statement.site.organisation, f"{statement.number}.pdf", statement
    )


def admin_subscription_invoice(client, member_of, operator):
    invoice = SubscriptionInvoiceFactory()
    response = _admin_action(client, operator, "admin:clearing_subscriptioninvoice_changelist", "download", invoice)
    return response, Expected(
        "clearing.subscriptioninvoice.downloaded", operator, invoice.site.organisation, f"{invoice.number}.pdf", invoice
    )


def admin_credit_note(client, member_of, operator):
    note = CreditNoteFactory()
    response = _get(client, operator, reverse("admin:clearing_creditnote_pdf", args=[note.pk]))
    return response, Expected("clearing.creditnote.downloaded", operator, note.sponsor, f"{note.number}.pdf", note)


def admin_supporting_document(client, member_of, operator):
    document = SupportingDocumentFactory(original_name="kbis.pdf")
    response = _get(client, operator, reverse("admin:mediators_supportingdocument_download", args=[document.pk]))
    return response, Expected(
        "mediators.supportingdocument.downloaded", operator, document.site.organisation, "kbis.pdf", document
    )


def admin_sepa_file(client, member_of, operator):
    statement = statement_to_pay()
    batch = payment_services.create_batch(statements=[statement], by=operator).batch
    response = _admin_action(client, operator, "admin:payments_paymentbatch_changelist", "download_sepa", batch)
    # The transfers of many sites in one file: no single organisation.
    return response, Expected("payments.paymentbatch.downloaded", operator, None, f"{batch.message_id}.xml", batch)


DOWNLOADS = [
    sponsor_invoice,
    sponsor_credit_note,
    site_statement,
    site_statement_by_api,
    site_subscription_invoice,
    site_redemptions_csv,
    site_supporting_document,
    admin_sponsor_invoice,
    admin_statement,
    admin_subscription_invoice,
    admin_credit_note,
    admin_supporting_document,
    admin_sepa_file,
]


@pytest.mark.parametrize("download", DOWNLOADS, ids=[d.__name__ for d in DOWNLOADS])
def test_each_download_writes_one_audit_entry(download, client, member_of, operator_user):
    before = set(AuditLog.objects.values_list("pk", flat=True))
    response, expected = download(client, member_of, operator_user)
    assert response.status_code == 200, response
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response.get("Cache-Control", ""), "a file of an organisation is never kept by a cache"
    entries = AuditLog.objects.exclude(pk__in=before).filter(action__endswith=".downloaded")
    entry = entries.get()
    assert entry.action == expected.action
    assert entry.actor == expected.actor and entry.actor_email == expected.actor.email
    assert entry.organisation_id == getattr(expected.organisation, "pk", None)
    assert entry.after["file"] == expected.file
    assert entry.target_id == (str(expected.target.pk) if expected.target is not None else "")
    assert entry.created_at is not None and entry.ip_address == "127.0.0.1"


def test_the_api_entry_names_the_token_used(member_of):
    statement = StatementFactory()
    organisation = statement.site.organisation
    user = member_of(organisation, role="admin")
    token, key = create_api_token(organisation=organisation, user=user, name="logiciel de compta")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(f"/api/v1/statements/{statement.number}/pdf").status_code == 200
    entry = AuditLog.objects.get(action="clearing.statement.downloaded")
    assert entry.after["api_token"] == token.pk and entry.after["path"] == f"/api/v1/statements/{statement.number}/pdf"


def test_a_download_refused_or_not_ready_writes_nothing(client, member_of):
    document = SupportingDocumentFactory()
    outsider = member_of(SiteFactory(qualified=True).organisation, role="admin")
    assert _get(client, outsider, reverse("mediators:document_download", args=[document.pk])).status_code == 404
    statement = StatementFactory(pdf="")
    owner = member_of(statement.site.organisation, role="admin")
    assert _get(client, owner, reverse("clearing:statement_pdf", args=[statement.number])).status_code == 404
    assert not AuditLog.objects.filter(action__endswith=".downloaded").exists()


def test_open_data_is_public_and_not_logged(client):
    response = client.get(reverse("api:sites-open-data-csv"))
    assert response.status_code == 200
    assert not AuditLog.objects.filter(action__endswith=".downloaded").exists()

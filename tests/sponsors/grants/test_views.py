"""The business grant through its pages: a company signs up, fills its draft (French amounts, the
expenditure formset, documents checked by content), sees its eligibility live, submits; the
sponsor's staff assign, ask for more, decide, accept instalments; letters and the report."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from passnum.audit.models import AuditLog
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from passnum.organisations.validators import siret_from_prefix
from sponsors.grants import selectors
from sponsors.grants.enums import ApplicationStatus, DocumentKind, ExpenditureCategory, InstalmentStatus
from sponsors.grants.models import GrantApplication, Instalment
from tests.factories import OrganisationFactory, UserFactory
from tests.sponsors.grants.factories import PDF, GrantApplicationFactory, GrantSchemeFactory, InstalmentFactory

pytestmark = pytest.mark.django_db


def draft_data(**overrides):
    start = timezone.localdate() + datetime.timedelta(days=20)
    data = {
        "headcount": "12",
        "naf_code": "4711b",
        "turnover_cents": "250 000",
        "commune_code": "97209",
        "project_title": "Boutique en ligne",
        "project_description": "Un site marchand.",
        "strategic_stakes": "Vendre en ligne.",
        "expected_growth": "Deux emplois.",
        "start_date": start.isoformat(),
        "end_date": (start + datetime.timedelta(days=300)).isoformat(),
        "requested_amount_cents": "9 000",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-category": ExpenditureCategory.EXTERNAL_SERVICE,
        "lines-0-supplier": "Agence Web Caraïbe",
        "lines-0-amount_cents": "8 765,43",
        "lines-1-category": ExpenditureCategory.EQUIPMENT,
        "lines-1-supplier": "Informatique 972",
        "lines-1-amount_cents": "1 234,57",
    }
    data.update(overrides)
    return data


def test_a_company_signs_up_like_a_site(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("grants:company_register"),
        {"name": "Atelier Madinina", "siret": "12345678901234", "address": "1 rue", "postcode": "97200", "city": "FdF"},
    )
    assert "la clé de contrôle ne correspond pas" in response.content.decode()
    siret = siret_from_prefix("512345670001")
    response = client.post(
        reverse("grants:company_register"),
        {"name": "Atelier Madinina", "siret": siret, "address": "1 rue", "postcode": "97200", "city": "Fort-de-France"},
    )
    assert response.status_code == 302
    company = Organisation.objects.get(siret=siret)
    assert company.kind == OrganisationKind.COMPANY
    assert company.memberships.get().user == user


def test_the_company_fills_its_draft_and_sees_why_it_is_eligible_or_not(
    client, member_of, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    scheme = GrantSchemeFactory()
    company = OrganisationFactory(company=True)
    client.force_login(member_of(company))
    response = client.post(reverse("grants:application_create"), {"scheme": scheme.pk})
    application = GrantApplication.objects.get(company=company)
    assert response.url == reverse("grants:application", kwargs={"pk": application.pk})

    url = reverse("grants:application", kwargs={"pk": application.pk})
    response = client.post(url, draft_data())
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.naf_code == "47.11B" and application.turnover_cents == 25_000_000
    assert application.requested_amount_cents == 900_000
    assert sorted(application.lines.values_list("amount_cents", flat=True)) == [123_457, 876_543]

    # Live checks (htmx) on what is typed, nothing saved: 40 % of equipment.
    checks = client.post(
        reverse("grants:checks", kwargs={"pk": application.pk}),
        draft_data(**{"lines-0-amount_cents": "6 000", "lines-1-amount_cents": "4 000", "headcount": "30"}),
    ).content.decode()
    assert "40,00 %" in checks and "30 salariés" in checks
    application.refresh_from_db()
    assert application.headcount == 12

    # Bad input: nothing is written.
    response = client.post(url, draft_data(requested_amount_cents="-5", **{"lines-0-amount_cents": "abc"}))
    body = response.content.decode()
    assert response.status_code == 200 and "doit être positif" in body and "pas un montant" in body
    response = client.post(url, draft_data(end_date="2020-01-01"))
    assert "est avant le début" in response.content.decode()
    response = client.post(url, draft_data(commune_code="99999"))
    assert "Aucune commune" in response.content.decode()
    application.refresh_from_db()
    assert application.requested_amount_cents == 900_000 and application.lines.count() == 2

    # Documents: checked by their content.
    upload = reverse("grants:document_upload", kwargs={"pk": application.pk})
    client.post(upload, {"kind": DocumentKind.QUOTES, "file": SimpleUploadedFile("devis.pdf", b"MZ not a pdf")})
    assert not application.documents.exists()
    for kind in scheme.required_documents:
        client.post(upload, {"kind": kind, "file": SimpleUploadedFile(f"{kind}.pdf", PDF)})
    assert application.documents.count() == len(scheme.required_documents)

    letter = client.get(reverse("grants:request_letter", kwargs={"pk": application.pk}))
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("grants:submit", kwargs={"pk": application.pk}))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert any("Nouvelle demande" in message.subject for message in mail.outbox)
    # A filed application is no longer edited.
    client.post(url, draft_data(headcount="3"))
    application.refresh_from_db()
    assert application.headcount == 12


def test_instruction_assign_ask_answer_decide_and_letter(client, member_of, django_capture_on_commit_callbacks):
    application = GrantApplicationFactory(submitted=True)
    sponsor = application.scheme.sponsor
    instructor = member_of(sponsor)
    company_user = member_of(application.company)
    instruct = reverse("grants:instruct", kwargs={"pk": application.pk})

    client.force_login(instructor)
    queue = client.get(reverse("grants:home"), {"etat": "submitted"}).content.decode()
    assert application.project_title in queue
    found = client.get(reverse("grants:home"), {"q": application.reference}).content.decode()
    assert application.project_title in found
    missed = client.get(reverse("grants:home"), {"q": "aucune entreprise de ce nom"}).content.decode()
    assert application.project_title not in missed and "pour ces critères" in missed
    client.post(instruct, {"action": "assign", "instructor": instructor.pk})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW and application.assigned_to == instructor
    client.post(instruct, {"action": "info", "message": "Joignez le devis signé."})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INFO_REQUESTED

    client.force_login(company_user)
    client.post(reverse("grants:answer", kwargs={"pk": application.pk}), {"answer": "Le voici."})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW and application.company_answer == "Le voici."

    client.force_login(instructor)
    response = client.post(instruct, {"action": "decide", "decision": "refused", "reason": ""}, follow=True)
    assert "Indiquez le motif du refus" in response.content.decode()
    response = client.post(instruct, {"action": "decide", "decision": "granted", "amount": "10 000,01"}, follow=True)
    assert "doit être compris entre" in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW
    with django_capture_on_commit_callbacks(execute=True):
        client.post(instruct, {"action": "decide", "decision": "granted", "amount": "8 500"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.GRANTED and application.granted_amount_cents == 850_000
    letter = client.get(reverse("grants:decision_letter", kwargs={"pk": application.pk}))
    assert letter.content.startswith(b"%PDF")
    assert list(application.status_changes.order_by("at", "pk").values_list("to_status", flat=True)) == [
        "in_review",
        "info_requested",
        "in_review",
        "granted",
    ]
    assert AuditLog.objects.filter(action="grant_application.granted", target_id=str(application.pk)).exists()
    assert any("accordée" in message.subject for message in mail.outbox)


def test_instalments_never_exceed_the_granted_amount(client, member_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    application = GrantApplicationFactory(granted=True, granted_amount_cents=800_000)
    line = application.lines.first()
    client.force_login(member_of(application.company))
    create = reverse("grants:instalment_create", kwargs={"pk": application.pk})
    client.post(
        create, {"line": line.pk, "invoice_number": "F1", "amount": "5 000", "file": SimpleUploadedFile("f1.pdf", PDF)}
    )
    response = client.post(
        create,
        {"line": line.pk, "invoice_number": "F2", "amount": "3 000,01", "file": SimpleUploadedFile("f2.pdf", PDF)},
        follow=True,
    )
    assert "Il reste 3\u202f000,00 €" in response.content.decode()
    first = Instalment.objects.get(invoice_number="F1")

    # Two invoices submitted, each within what remains; once the first is accepted the second is not.
    second = InstalmentFactory(application=application, line=line, amount_cents=300_001)
    client.force_login(member_of(application.scheme.sponsor))
    client.post(reverse("grants:instalment", kwargs={"pk": first.pk}), {"decision": "accept"})
    first.refresh_from_db()
    assert first.status == InstalmentStatus.ACCEPTED
    response = client.post(reverse("grants:instalment", kwargs={"pk": second.pk}), {"decision": "accept"}, follow=True)
    assert "Il reste 3\u202f000,00 €" in response.content.decode()
    second.refresh_from_db()
    assert second.status == InstalmentStatus.SUBMITTED
    client.post(reverse("grants:instalment", kwargs={"pk": second.pk}), {"decision": "refuse", "reason": ""})
    second.refresh_from_db()
    assert second.status == InstalmentStatus.SUBMITTED
    client.post(reverse("grants:instalment", kwargs={"pk": second.pk}), {"decision": "refuse", "reason": "Hors plan"})
    second.refresh_from_db()
    assert second.status == InstalmentStatus.REFUSED


def test_report_by_state_sector_and_commune_with_csv(client, member_of, django_assert_max_num_queries):
    scheme = GrantSchemeFactory()
    GrantApplicationFactory(scheme=scheme, granted=True, naf_code="62.01Z")
    GrantApplicationFactory(scheme=scheme, submitted=True, naf_code="47.11B", commune_code="97213")
    GrantApplicationFactory(scheme=scheme)  # a draft: not the authority's business
    GrantApplicationFactory(submitted=True)  # another scheme
    client.force_login(member_of(scheme.sponsor))
    with django_assert_max_num_queries(20):
        body = client.get(reverse("grants:report")).content.decode()
    assert "62.01Z" in body and "Le Lamentin" in body
    csv_body = client.get(reverse("grants:report"), {"format": "csv"}).content.decode()
    assert "secteur NAF;62.01Z;1;9000,00;9000,00;0,00" in csv_body
    assert "total;;;18000,00;9000,00;0,00" in csv_body


def test_another_organisation_finds_nothing(client, member_of):
    application = GrantApplicationFactory(submitted=True)
    other_company = member_of(OrganisationFactory(company=True))
    other_sponsor = member_of(OrganisationFactory(sponsor=True))
    for user in (other_company, other_sponsor):
        client.force_login(user)
        assert client.get(reverse("grants:application", kwargs={"pk": application.pk})).status_code == 404
        assert application.project_title not in client.get(reverse("grants:home")).content.decode()


def test_the_demo_has_a_grant_scheme_with_each_state_and_is_idempotent(client):
    import json
    from io import StringIO

    from django.core.management import call_command

    def run():
        out = StringIO()
        call_command("demo", "--json", stdout=out)
        return json.loads(out.getvalue())

    first = run()["grants"]
    assert [a["status"] for a in first["applications"]] == ["granted", "refused", "info_requested", "draft"]
    granted = GrantApplication.objects.get(pk=first["applications"][0]["pk"])
    assert list(granted.instalments.values_list("status", flat=True)) == [InstalmentStatus.PAID]
    refused = GrantApplication.objects.get(pk=first["applications"][1]["pk"])
    assert "40 %" in refused.decision_reason
    equipment = next(c for c in selectors.checks_of(application=refused) if c.rule == "equipment_share")
    assert not equipment.passed and "40,00 %" in equipment.message
    assert run()["grants"] == first
    assert GrantApplication.objects.count() == 4


def test_a_draft_stays_the_company_s_until_it_is_filed(client, member_of):
    draft = GrantApplicationFactory()
    client.force_login(member_of(draft.scheme.sponsor))
    assert client.get(reverse("grants:application", kwargs={"pk": draft.pk})).status_code == 404
    document = draft.documents.first()
    assert client.get(reverse("grants:document", kwargs={"pk": document.pk})).status_code == 404
    client.force_login(member_of(draft.company))
    assert client.get(reverse("grants:application", kwargs={"pk": draft.pk})).status_code == 200


def test_bad_scheme_settings_are_refused_and_nothing_is_saved(client, member_of):
    sponsor = OrganisationFactory(sponsor=True)
    client.force_login(member_of(sponsor))
    data = {
        "name": "Pass numérique entreprises",
        "min_amount_cents": "10 000,01",
        "max_amount_cents": "10 000",
        "headcount_limit": "30",
        "equipment_cap_percent": "25",
        "max_duration_months": "24",
        "renewal_after_months": "24",
        "departments": "972",
        "required_documents": ["project_file"],
        "president_title": "Monsieur le Président",
        "is_open": "on",
    }
    response = client.post(reverse("grants:scheme_edit"), data)
    assert "dépasse le montant maximal" in response.content.decode()
    response = client.post(reverse("grants:scheme_edit"), {**data, "min_amount_cents": "8 000", "departments": "999"})
    assert "Département inconnu : 999" in response.content.decode()
    assert not sponsor.grant_schemes.exists()
    client.post(reverse("grants:scheme_edit"), {**data, "min_amount_cents": "8 000", "equipment_cap_percent": "25,5"})
    scheme = sponsor.grant_schemes.get()
    assert (scheme.min_amount_cents, scheme.max_amount_cents, scheme.equipment_cap_bp) == (800_000, 1_000_000, 2550)

"""Bad input to the grant's use cases: a clear refusal, and nothing half-written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from passnum.refusals import Refusal
from sponsors.grants import services
from sponsors.grants.enums import ApplicationStatus, DocumentKind, InstalmentStatus
from sponsors.grants.models import ApplicationDocument, Instalment
from tests.factories import OrganisationFactory
from tests.sponsors.grants.factories import PDF, ApplicationDocumentFactory, GrantApplicationFactory, GrantSchemeFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "cents"),
    [("1 234,56", 123_456), ("1234.56", 123_456), ("8 000 €", 800_000), ("8\u202f000", 800_000), ("0,01", 1)],
)
def test_french_amounts(text, cents):
    assert services.parse_euros(text) == cents


@pytest.mark.parametrize("text", ["-5", "0", "abc", "1,234", "12,345", "1e400", "nan", "9999999999", ""])
def test_negative_absurd_or_non_numeric_amounts_are_refused(text):
    with pytest.raises(services.GrantError) as refused:
        services.parse_euros(text)
    assert refused.value.code == Refusal.GRANT_INVALID_FIGURE


@pytest.mark.parametrize(("text", "expected"), [("62.01Z", "62.01Z"), ("6201z", "62.01Z"), ("47 11 B", "47.11B")])
def test_naf_codes_are_normalised(text, expected):
    assert services.check_naf_code(text) == expected


@pytest.mark.parametrize("text", ["62.01", "6201ZZ", "A2.01Z", "62-01-Z"])
def test_malformed_naf_codes_are_refused(text):
    with pytest.raises(services.GrantError):
        services.check_naf_code(text)


def test_an_absurd_headcount_or_an_end_before_the_start_writes_nothing(member_of):
    application = GrantApplicationFactory(documents=[])
    user = member_of(application.company)
    lines = [{"category": "software", "supplier": "Éditeur", "amount_cents": 500_000}]
    with pytest.raises(services.GrantError, match="pas vraisemblable"):
        services.save_draft(application=application, by=user, fields={"headcount": 1_000_000}, lines=lines)
    with pytest.raises(services.GrantError, match="est avant le début"):
        services.save_draft(
            application=application,
            by=user,
            fields={"start_date": application.end_date, "end_date": application.start_date},
            lines=lines,
        )
    application.refresh_from_db()
    assert application.headcount == 12 and application.lines.count() == 2


def test_documents_are_checked_by_their_content_and_size(member_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    application = GrantApplicationFactory(documents=[])
    user = member_of(application.company)
    with pytest.raises(services.GrantError) as refused:
        services.add_document(
            application=application,
            by=user,
            kind=DocumentKind.QUOTES,
            uploaded=SimpleUploadedFile("devis.pdf", b"<html>"),
        )
    assert refused.value.code == "document_wrong_type"
    big = SimpleUploadedFile("gros.pdf", PDF + b"0" * (5 * 1024 * 1024))
    with pytest.raises(services.GrantError) as refused:
        services.add_document(application=application, by=user, kind=DocumentKind.QUOTES, uploaded=big)
    assert refused.value.code == "document_too_large"
    assert not ApplicationDocument.objects.exists()
    png = SimpleUploadedFile("rib.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10)
    document = services.add_document(application=application, by=user, kind=DocumentKind.BANK_DETAILS, uploaded=png)
    assert document.content_type == "image/png"


def test_a_company_of_another_territory_cannot_submit(member_of):
    application = GrantApplicationFactory(commune_code="33063")
    with pytest.raises(services.GrantError) as refused:
        services.submit_application(application=application, by=member_of(application.company))
    assert refused.value.code == Refusal.GRANT_OUT_OF_TERRITORY
    assert "Bordeaux" in refused.value.message


def test_a_renewal_links_to_the_first_grant_and_waits_two_years(member_of):
    first = GrantApplicationFactory(granted=True)
    second = services.create_application(scheme=first.scheme, company=first.company, by=member_of(first.company))
    assert second.renewal_of == first
    services.save_draft(
        application=second,
        by=member_of(first.company),
        fields={name: getattr(first, name) for name in services.APPLICATION_FIELDS},
        lines=[{"category": "software", "supplier": "Éditeur", "amount_cents": 1_000_000}],
    )
    for kind in first.scheme.required_documents:
        ApplicationDocumentFactory(application=second, kind=kind)
    with pytest.raises(services.GrantError) as refused:
        services.submit_application(application=second, by=member_of(first.company))
    assert refused.value.code == Refusal.GRANT_RENEWAL_TOO_EARLY


def test_only_a_sponsor_member_of_the_scheme_decides(member_of):
    application = GrantApplicationFactory(submitted=True)
    other = OrganisationFactory(sponsor=True)
    with pytest.raises(services.GrantError):
        services.decide(application=application, by=member_of(other), sponsor=other, granted=False, reason="Non")
    draft = GrantApplicationFactory()
    with pytest.raises(services.GrantError) as refused:
        services.decide(
            application=draft,
            by=member_of(draft.scheme.sponsor),
            sponsor=draft.scheme.sponsor,
            granted=False,
            reason="x",
        )
    assert refused.value.code == Refusal.GRANT_STATE_NOT_ALLOWED
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_an_invoice_of_the_wrong_type_or_above_what_remains_writes_nothing(member_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    application = GrantApplicationFactory(granted=True, granted_amount_cents=800_000, documents=[])
    user, line = member_of(application.company), application.lines.first()
    with pytest.raises(services.GrantError):
        services.submit_instalment(
            application=application,
            by=user,
            line=line,
            invoice_number="F1",
            amount_cents=100_000,
            uploaded=SimpleUploadedFile("f.pdf", b"GIF89a"),
        )
    with pytest.raises(services.GrantError) as refused:
        services.submit_instalment(
            application=application,
            by=user,
            line=line,
            invoice_number="F2",
            amount_cents=800_001,
            uploaded=SimpleUploadedFile("f.pdf", PDF),
        )
    assert refused.value.code == Refusal.GRANT_INSTALMENT_ABOVE_REMAINING
    assert not Instalment.objects.exists()
    other_line = GrantApplicationFactory(granted=True, documents=[]).lines.first()
    with pytest.raises(services.GrantError, match="pas dans le plan"):
        services.submit_instalment(
            application=application,
            by=user,
            line=other_line,
            invoice_number="F3",
            amount_cents=1000,
            uploaded=SimpleUploadedFile("f.pdf", PDF),
        )


def test_an_accepted_instalment_waits_to_be_paid_then_is_marked_paid(member_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    application = GrantApplicationFactory(granted=True, documents=[])
    sponsor = application.scheme.sponsor
    instalment = services.submit_instalment(
        application=application,
        by=member_of(application.company),
        line=application.lines.first(),
        invoice_number="F1",
        amount_cents=400_000,
        uploaded=SimpleUploadedFile("f.pdf", PDF),
    )
    services.accept_instalment(instalment=instalment, by=member_of(sponsor), sponsor=sponsor)
    from sponsors.grants import selectors

    assert list(selectors.accepted_to_pay(sponsor=sponsor)) == [instalment]
    assert selectors.remaining_cents(application=application) == 500_000
    services.mark_instalment_paid(instalment=instalment, reference="VIR-1")
    instalment.refresh_from_db()
    assert instalment.status == InstalmentStatus.PAID and instalment.paid_at is not None
    assert selectors.report(sponsor=sponsor)["totals"]["paid"] == 400_000


def test_scheme_defaults_follow_the_martinique_rules():
    scheme = GrantSchemeFactory()
    assert (scheme.min_amount_cents, scheme.max_amount_cents) == (800_000, 1_000_000)
    assert (scheme.headcount_limit, scheme.equipment_cap_bp, scheme.max_duration_months) == (30, 2500, 24)
    assert scheme.departments == ["972"] and DocumentKind.SIGNED_LETTER in scheme.required_documents


def test_the_status_log_is_append_only(member_of):
    from django.db import ProgrammingError, transaction

    application = GrantApplicationFactory()
    services.submit_application(application=application, by=member_of(application.company))
    change = application.status_changes.get()
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        type(change).objects.filter(pk=change.pk).update(note="réécrit")
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        change.delete()


def test_a_filed_application_gets_the_next_gapless_number_and_a_draft_has_none(member_of):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    year = timezone.localdate().year
    first, second = GrantApplicationFactory(), GrantApplicationFactory()
    assert first.number == "" and first.reference == f"brouillon n° {first.pk}"
    services.submit_application(application=second, by=member_of(second.company))
    services.submit_application(application=first, by=member_of(first.company))
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.number, first.number) == (f"PNE-{year}-000001", f"PNE-{year}-000002")
    assert first.reference == first.number
    # A paper application, recorded by the instructing service, takes the next one.
    paper = GrantApplicationFactory(scheme=first.scheme)
    sponsor = first.scheme.sponsor
    services.record_paper_application(application=paper, by=member_of(sponsor), sponsor=sponsor)
    paper.refresh_from_db()
    assert paper.number == f"PNE-{year}-000003" and paper.status == ApplicationStatus.SUBMITTED
    assert paper.status_changes.get().note == "Dossier reçu par courrier."
    # The database refuses a filed application without a number, and a number twice.
    with pytest.raises(IntegrityError), transaction.atomic():
        type(first).objects.filter(pk=first.pk).update(number="")
    with pytest.raises(IntegrityError), transaction.atomic():
        type(first).objects.filter(pk=first.pk).update(number=second.number)

"""The guided application, the operator's decisions and the bad inputs of the issue."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import ProgrammingError, transaction
from django.utils import timezone

from clearing.payees.models import PayeeKind
from clearing.payees.services import set_payee_account
from mediators.errors import SiteError
from mediators.places import selectors as places_selectors
from mediators.places import services as places_services
from mediators.qualification import selectors as qualification_selectors
from mediators.qualification import services as qualification_services
from mediators.qualification.models import (
    Choice,
    QualificationStatus,
    Question,
    SchemeSettings,
    Site,
    SiteStatusChange,
    SubscriptionStatus,
)
from passnum.audit.models import AuditLog
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.services import OrganisationError
from passnum.organisations.validators import siret_from_prefix
from tests.factories import UserFactory
from tests.mediators.factories import (
    PDF_BYTES,
    VALID_BIC,
    VALID_IBAN,
    CatalogueItemFactory,
    PointOfPresenceFactory,
    SiteFactory,
    SubscriptionFactory,
    aptic_service,
)

pytestmark = pytest.mark.django_db

POINT = {
    "name": "Espace numérique",
    "address": "1 place de la Mairie",
    "postcode": "33400",
    "commune": "Talence",
    "insee_code": "33522",
    "latitude": "44.8083",
    "longitude": "-0.5880",
    "phone": "05 56 00 00 00",
}


def complete_application(site, user):
    """Fills every step of the application through the services."""
    places_services.save_point_of_presence(site=site, by=user, data=POINT)
    answers = {}
    for question in Question.objects.filter(is_active=True):
        answers[question.pk] = Choice.objects.filter(question=question).order_by("-points").first().pk
    qualification_services.save_answers(site=site, by=user, answers=answers)
    qualification_services.accept_charter(site=site, by=user, version=SchemeSettings.load().charter_version)
    places_services.save_catalogue_item(
        site=site,
        by=user,
        service_code=1,
        passes_required=1,
        format="individual",
        duration_minutes=120,
        tariff_cents=1000,
    )
    qualification_services.add_document(
        site=site, by=user, kind="statutes", uploaded=SimpleUploadedFile("statuts.pdf", PDF_BYTES, "application/pdf")
    )
    set_payee_account(
        organisation=site.organisation,
        by=user,
        payee_kind=PayeeKind.SELF,
        holder_name="Asso",
        iban=VALID_IBAN,
        bic=VALID_BIC,
    )


def register(user, siret=None):
    return qualification_services.register_site(
        user=user,
        name="Association Clic",
        siret=siret or siret_from_prefix("123456780001"),
        legal_form="association",
        sector="private",
        postcode="33400",
        city="Talence",
    )


# --- sign-up ---------------------------------------------------------------------------------


def test_register_creates_site_organisation_with_user_as_admin():
    user = UserFactory()
    site = register(user)
    assert site.organisation.kind == OrganisationKind.SITE
    assert site.status == QualificationStatus.DRAFT
    assert site.organisation.memberships.get().user == user
    assert AuditLog.objects.filter(action="site.registered").exists()


def test_register_refuses_wrong_siret_checksum_and_saves_nothing():
    with pytest.raises(OrganisationError) as error:
        register(UserFactory(), siret="12345678000012")
    assert error.value.code == "siret_checksum"
    assert error.value.field == "siret"
    assert not Site.objects.exists()


def test_register_refuses_siret_already_registered():
    register(UserFactory())
    with pytest.raises(OrganisationError) as error:
        register(UserFactory())
    assert error.value.code == "siret_taken"
    assert Site.objects.count() == 1


# --- application -----------------------------------------------------------------------------


def test_missing_steps_then_submit():
    user = UserFactory()
    site = register(user)
    keys = [step.key for step in qualification_selectors.missing_steps(site)]
    assert keys == ["points", "questionnaire", "charter", "catalogue", "documents", "bank"]
    with pytest.raises(SiteError) as error:
        qualification_services.submit_application(site=site, by=user)
    assert error.value.code == "application_incomplete"
    assert error.value.details["missing"] == keys
    complete_application(site, user)
    assert qualification_selectors.missing_steps(site) == []
    site = qualification_services.submit_application(site=site, by=user)
    assert site.status == QualificationStatus.SUBMITTED
    assert site.questionnaire_score == 18
    assert list(qualification_selectors.application_queue()) == [site]


def test_score_below_pass_mark_blocks_submission():
    user = UserFactory()
    site = register(user)
    complete_application(site, user)
    answers = {q.pk: Choice.objects.filter(question=q).order_by("points").first().pk for q in Question.objects.all()}
    qualification_services.save_answers(site=site, by=user, answers=answers)
    assert [step.key for step in qualification_selectors.missing_steps(site)] == ["questionnaire_score"]


def test_outdated_charter_is_refused():
    site = SiteFactory()
    with pytest.raises(SiteError) as error:
        qualification_services.accept_charter(site=site, by=UserFactory(), version="1999")
    assert error.value.code == "charter_outdated"


# --- decisions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "start", "expected"),
    [
        ("qualify", QualificationStatus.SUBMITTED, QualificationStatus.QUALIFIED),
        ("request_changes", QualificationStatus.SUBMITTED, QualificationStatus.CHANGES_REQUESTED),
        ("reject", QualificationStatus.SUBMITTED, QualificationStatus.REJECTED),
        ("suspend", QualificationStatus.QUALIFIED, QualificationStatus.SUSPENDED),
        ("disqualify", QualificationStatus.QUALIFIED, QualificationStatus.DISQUALIFIED),
        ("qualify", QualificationStatus.SUSPENDED, QualificationStatus.QUALIFIED),
    ],
)
def test_each_decision_is_recorded_audited_and_mailed(
    decision, start, expected, operator_user, member_of, django_capture_on_commit_callbacks
):
    site = SiteFactory(status=start)
    admin = member_of(site.organisation, role="admin")
    member_of(site.organisation, role="member")
    with django_capture_on_commit_callbacks(execute=True):
        qualification_services.decide(site=site, decision=decision, reason="Pièces manquantes", by=operator_user)
    site.refresh_from_db()
    assert site.status == expected
    assert site.decision_reason == "Pièces manquantes"
    change = SiteStatusChange.objects.get(site=site)
    assert (change.from_status, change.to_status, change.actor) == (start, expected, operator_user)
    log = AuditLog.objects.get(action=f"site.{decision}")
    assert log.after == {"status": expected, "reason": "Pièces manquantes"}
    assert log.actor == operator_user
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin.email]
    assert "Pièces manquantes" in mail.outbox[0].body


def test_decision_needs_a_reason_except_qualify(operator_user):
    site = SiteFactory(submitted=True)
    with pytest.raises(SiteError) as error:
        qualification_services.reject(site=site, by=operator_user, reason="  ")
    assert error.value.code == "reason_required"
    site.refresh_from_db()
    assert site.status == QualificationStatus.SUBMITTED
    qualification_services.qualify(site=site, by=operator_user)
    site.refresh_from_db()
    assert site.status == QualificationStatus.QUALIFIED and site.qualified_at is not None


def test_decision_not_allowed_from_wrong_status(operator_user):
    site = SiteFactory()
    with pytest.raises(SiteError) as error:
        qualification_services.qualify(site=site, by=operator_user)
    assert error.value.code == "decision_not_allowed"
    with pytest.raises(SiteError):
        qualification_services.suspend(site=SiteFactory(submitted=True), by=operator_user, reason="x")


def test_status_history_is_append_only():
    site = SiteFactory()
    change = SiteStatusChange.objects.create(site=site, to_status="draft", reason="first")
    # The database's trigger refuses, whatever the code path: an UPDATE and a DELETE.
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        SiteStatusChange.objects.filter(pk=change.pk).update(reason="changed")
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        SiteStatusChange.objects.filter(pk=change.pk).delete()
    assert SiteStatusChange.objects.get(pk=change.pk).reason == "first"


# --- redemption contract ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (QualificationStatus.DRAFT, "site_not_qualified"),
        (QualificationStatus.SUBMITTED, "site_not_qualified"),
        (QualificationStatus.REJECTED, "site_not_qualified"),
        (QualificationStatus.DISQUALIFIED, "site_not_qualified"),
        (QualificationStatus.SUSPENDED, "site_suspended"),
        (QualificationStatus.QUALIFIED, None),
    ],
)
def test_check_site_can_redeem(status, code):
    site = SiteFactory(status=status)
    assert qualification_selectors.can_redeem(site) == (code is None, code)
    if code:
        with pytest.raises(DomainError) as error:
            qualification_selectors.check_site_can_redeem(site)
        assert error.value.code == code


def test_unpaid_subscription_past_grace_suspends_redemption():
    site = SiteFactory(qualified=True)
    today = timezone.localdate()
    subscription = SubscriptionFactory(site=site, due_date=today - datetime.timedelta(days=10))
    assert qualification_selectors.subscription_state(site).code == "overdue"
    assert qualification_selectors.can_redeem(site) == (True, None)
    later = today + datetime.timedelta(days=SchemeSettings.load().subscription_grace_days)
    assert qualification_selectors.subscription_state(site, later).code == "lapsed"
    assert qualification_selectors.can_redeem(site, later) == (False, "site_suspended")
    qualification_services.mark_subscription_paid(subscription=subscription, by=None)
    assert qualification_selectors.can_redeem(site, later) == (True, None)


def test_subscription_amount_is_configurable_and_reminder_sent_once(member_of, django_capture_on_commit_callbacks):
    settings_row = SchemeSettings.load()
    settings_row.subscription_amount_cents = 9900
    settings_row.save()
    site = SiteFactory(qualified=True)
    member_of(site.organisation)
    today = timezone.localdate()
    subscription = qualification_services.ensure_subscription(site=site, year=today.year, today=today)
    assert subscription.amount_cents == 9900 and subscription.status == SubscriptionStatus.DUE
    later = subscription.due_date + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert qualification_services.send_subscription_reminders(later) == 1
        assert qualification_services.send_subscription_reminders(later) == 0
    assert len(mail.outbox) == 1


def test_default_subscription_is_77_euros():
    site = SiteFactory()
    assert qualification_services.ensure_subscription(site=site, year=timezone.localdate().year).amount_cents == 7700


# --- bad inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"latitude": "40.7128", "longitude": "-74.0060"}, "coordinates_outside_france", "latitude"),
        ({"latitude": "-0.58", "longitude": "44.80"}, "coordinates_outside_france", "latitude"),
        ({"latitude": "abc"}, "coordinates_invalid", "latitude"),
        ({"insee_code": "3352"}, "insee_invalid", "insee_code"),
        ({"insee_code": "2C123"}, "insee_invalid", "insee_code"),
        ({"insee_code": "96123"}, "insee_unknown", "insee_code"),
        ({"insee_code": "20123"}, "insee_unknown", "insee_code"),
        ({"insee_code": "33000"}, "insee_unknown", "insee_code"),
        ({"insee_code": "31555"}, "insee_postcode_mismatch", "insee_code"),
        ({"postcode": "3340"}, "postcode_invalid", "postcode"),
        ({"phone": "12"}, "phone_invalid", "phone"),
        ({"name": " "}, "required", "name"),
    ],
)
def test_point_of_presence_bad_input(changes, code, field):
    site = SiteFactory()
    with pytest.raises(SiteError) as error:
        places_services.save_point_of_presence(site=site, by=None, data={**POINT, **changes})
    assert (error.value.code, error.value.field) == (code, field)
    assert error.value.message not in ("", code)  # a sentence for the person, not the machine code
    assert not site.points.exists()


@pytest.mark.parametrize(
    ("latitude", "longitude", "postcode", "insee"),
    [
        ("41.9192", "8.7386", "20000", "2A004"),  # Ajaccio
        ("16.2650", "-61.5510", "97110", "97120"),  # Pointe-à-Pitre
        ("-20.8789", "55.4481", "97400", "97411"),  # Saint-Denis de La Réunion
        ("4.9372", "-52.3260", "97300", "97302"),  # Cayenne
    ],
)
def test_point_of_presence_in_corsica_and_overseas(latitude, longitude, postcode, insee):
    point = places_services.save_point_of_presence(
        site=SiteFactory(),
        by=None,
        data={**POINT, "latitude": latitude, "longitude": longitude, "postcode": postcode, "insee_code": insee},
    )
    assert point.insee_code == insee


def test_catalogue_refuses_service_not_in_referential():
    site = SiteFactory()
    aptic_service()
    for code in ("999", "abc", ""):
        with pytest.raises(SiteError) as error:
            places_services.save_catalogue_item(
                site=site,
                by=None,
                service_code=code,
                passes_required=1,
                format="individual",
                duration_minutes=60,
                tariff_cents=0,
            )
        assert (error.value.code, error.value.field) == ("service_not_in_referential", "service")
    inactive = aptic_service(2)
    inactive.is_active = False
    inactive.save()
    with pytest.raises(SiteError):
        places_services.save_catalogue_item(
            site=site,
            by=None,
            service_code=2,
            passes_required=1,
            format="individual",
            duration_minutes=60,
            tariff_cents=0,
        )
    assert not site.catalogue.exists()


def test_catalogue_terms_and_duplicates():
    site = SiteFactory()
    aptic_service()
    with pytest.raises(SiteError) as error:
        places_services.save_catalogue_item(
            site=site,
            by=None,
            service_code=1,
            passes_required=0,
            format="individual",
            duration_minutes=60,
            tariff_cents=0,
        )
    assert error.value.code == "passes_required_invalid"
    places_services.save_catalogue_item(
        site=site,
        by=None,
        service_code=1,
        passes_required=2,
        format="collective",
        duration_minutes=60,
        tariff_cents=2000,
    )
    with pytest.raises(SiteError) as error:
        places_services.save_catalogue_item(
            site=site,
            by=None,
            service_code=1,
            passes_required=1,
            format="individual",
            duration_minutes=60,
            tariff_cents=0,
        )
    assert error.value.code == "service_already_in_catalogue"


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"%PDF" + b"0" * (5 * 1024 * 1024), "gros.pdf", "document_too_large"),
        (b"MZ\x90\x00 not a pdf", "statuts.pdf", "document_wrong_type"),
        (b"<html>hello</html>", "photo.png", "document_wrong_type"),
        (b"", "vide.pdf", "document_empty"),
    ],
)
def test_document_bad_input(content, name, code):
    site = SiteFactory()
    with pytest.raises(SiteError) as error:
        qualification_services.add_document(
            site=site, by=None, kind="statutes", uploaded=SimpleUploadedFile(name, content)
        )
    assert (error.value.code, error.value.field) == (code, "file")
    assert not site.documents.exists()


def test_document_is_stored_under_an_unguessable_name():
    site = SiteFactory()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    document = qualification_services.add_document(
        site=site, by=None, kind="insurance", uploaded=SimpleUploadedFile("Attestation Mairie.png", png)
    )
    assert document.content_type == "image/png"
    assert "Attestation" not in document.file.name
    assert len(document.file.name.rsplit("/", 1)[-1]) >= 32
    assert document.original_name == "Attestation Mairie.png"


def test_deleted_document_leaves_no_row_no_file_and_an_audit_entry(django_capture_on_commit_callbacks):
    site = SiteFactory()
    document = qualification_services.add_document(
        site=site, by=None, kind="insurance", uploaded=SimpleUploadedFile("attestation.pdf", PDF_BYTES)
    )
    storage, name = document.file.storage, document.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        qualification_services.delete_document(document=document, by=None)
    assert not site.documents.exists()
    assert not storage.exists(name)  # the file goes once the deletion is committed
    entry = AuditLog.objects.get(action="site.document_deleted")
    assert entry.before["original_name"] == "attestation.pdf"


# --- workshops -------------------------------------------------------------------------------


def test_workshop_rules():
    site = SiteFactory(qualified=True)
    point = PointOfPresenceFactory(site=site)
    other_point = PointOfPresenceFactory()
    soon = timezone.now() + datetime.timedelta(days=3)
    kwargs = {
        "site": site,
        "by": None,
        "point_of_presence": point,
        "starts_at": soon,
        "duration_minutes": 90,
        "seats": 8,
        "level": "beginner",
        "service_code": 1,
    }
    with pytest.raises(SiteError) as error:
        places_services.save_workshop(**kwargs)
    assert error.value.code == "service_not_in_catalogue"
    CatalogueItemFactory(site=site)
    with pytest.raises(SiteError) as error:
        places_services.save_workshop(**{**kwargs, "point_of_presence": other_point})
    assert error.value.code == "point_unknown"
    with pytest.raises(SiteError) as error:
        places_services.save_workshop(**{**kwargs, "starts_at": timezone.now() - datetime.timedelta(hours=1)})
    assert error.value.code == "workshop_in_past"
    with pytest.raises(SiteError) as error:
        places_services.save_workshop(**{**kwargs, "seats": 0})
    assert error.value.code == "seats_invalid"
    workshop = places_services.save_workshop(**kwargs)
    assert workshop in places_selectors.public_workshops()
    places_services.close_point_of_presence(point=point, by=None)
    workshop.refresh_from_db()
    assert workshop.is_cancelled

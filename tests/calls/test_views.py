"""The funder's space and the sponsor's pages of calls for projects: a call from draft to
agreement through the pages, refusals shown under their field, another organisation's objects
answer 404, the agreement's share read-only on the programme form."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from passnum.errors import DomainError
from passnum.refusals import Refusal
from sponsors.calls import services
from sponsors.calls.models import Agreement, Application, Call, FunderStatement
from sponsors.models import CoFunder
from tests.calls.factories import ApplicationFactory, CallFactory, FunderStatementFactory
from tests.factories import OrganisationFactory
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def funder():
    return OrganisationFactory(funder=True, name="Agence nationale de la cohésion des territoires")


@pytest.fixture
def funder_client(client, member_of, funder):
    client.force_login(member_of(funder, role="member"))
    return client


@pytest.fixture
def sponsor():
    return OrganisationFactory(sponsor=True, name="Département de la Gironde")


def sponsor_client(client, member_of, sponsor):
    client.force_login(member_of(sponsor, role="admin"))
    return client


def call_form(**overrides):
    data = {
        "title": "Appel 2027",
        "description": "Achat de pass",
        "max_share_percent": "50",
        "min_purchase_euros": "20000",
        "max_purchase_euros": "3000000",
        "deadline": (timezone.localdate() + datetime.timedelta(days=30)).strftime("%d/%m/%Y"),
        "priority_audiences": ["job_seekers", "youth"],
        "priority_min_percent": "50",
    }
    data.update(overrides)
    return data


def application_form(call, programme, **overrides):
    data = {
        "call": call.pk,
        "programme": programme.pk,
        "booklet_count": "2000",
        "share_percent": "50",
        "audience_job_seekers": "30",
        "audience_youth": "25",
        "audience_seniors": "30",
        "action": "submit",
    }
    data.update(overrides)
    return data


def test_a_call_from_draft_to_agreement_through_the_pages(client, member_of, funder, sponsor):
    funder_user, sponsor_user = member_of(funder, role="member"), member_of(sponsor, role="admin")
    funder_client = client
    client.force_login(funder_user)
    response = funder_client.post(reverse("calls:call_new"), call_form())
    call = Call.objects.get()
    assert response.url == reverse("calls:call", kwargs={"pk": call.pk})
    assert (call.max_share_bp, call.min_purchase_cents, call.priority_min_bp) == (5000, 2_000_000, 5000)
    page = funder_client.get(reverse("calls:call_publish", kwargs={"pk": call.pk}))
    assert page.context["question"].startswith("Publier l'appel ?")  # a confirmation first
    funder_client.post(reverse("calls:call_publish", kwargs={"pk": call.pk}))
    call.refresh_from_db()
    assert call.status == Call.Status.OPEN

    programme = ProgrammeFactory(sponsor=sponsor, name="Pass numérique Gironde")
    client.force_login(sponsor_user)
    sponsor_page = client
    listing = sponsor_page.get(reverse("calls:open_calls")).content.decode()
    assert "Appel 2027" in listing and funder.name in listing
    response = sponsor_page.post(reverse("calls:application_new"), application_form(call, programme))
    application = Application.objects.get()
    assert response.url == reverse("calls:application", kwargs={"pk": application.pk})
    assert application.status == Application.Status.SUBMITTED and application.amount_cents == 2000 * 10_000
    assert application.audiences == {"job_seekers": 3000, "youth": 2500, "seniors": 3000}

    client.force_login(funder_user)
    url = reverse("calls:received", kwargs={"pk": application.pk})
    assert "Pass numérique Gironde" in client.get(url).content.decode()
    client.post(url, {"action": "score", "score": "80"})
    client.post(url, {"action": "select", "reason": "Bon projet"})
    agreement = Agreement.objects.get()
    assert agreement.application.score == 80
    assert agreement.cofunder.programme == programme and agreement.cofunder.share_bp == 5000
    home = client.get(reverse("calls:funder_home")).content.decode()
    assert "Pass numérique Gironde" in home and "Conventions de cofinancement" in home


def test_each_rule_is_explained_under_its_field(client, member_of, sponsor):
    call = CallFactory(priority_audiences=["job_seekers"], priority_min_bp=5000)
    programme = ProgrammeFactory(sponsor=sponsor)
    page = sponsor_client(client, member_of, sponsor)
    response = page.post(reverse("calls:application_new"), application_form(call, programme, share_percent="50.01"))
    assert response.status_code == 200
    share_errors = response.context["form"].errors["share_percent"]
    assert "dépasse la part maximale de l'appel (50 %)" in share_errors[0]
    assert 'id="id_share_percent_error"' in response.content.decode()
    response = page.post(reverse("calls:application_new"), application_form(call, programme, booklet_count="199"))
    assert "inférieur au minimum" in response.context["form"].errors["booklet_count"][0]
    response = page.post(
        reverse("calls:application_new"),
        application_form(call, programme, audience_job_seekers="49.99", audience_seniors=""),
    )
    assert "au moins 50 %" in response.context["form"].non_field_errors()[0]
    assert not Application.objects.exists()


def test_every_application_field_has_a_label(client, member_of, sponsor):
    CallFactory()
    html = sponsor_client(client, member_of, sponsor).get(reverse("calls:application_new")).content.decode()
    for name in ["call", "programme", "booklet_count", "share_percent", "audience_job_seekers", "audience_seniors"]:
        assert f'<label for="id_{name}"' in html, name
    assert "<legend>Publics visés" in html


def test_a_late_submission_keeps_the_draft_and_says_why(client, member_of, sponsor):
    call = CallFactory(deadline=timezone.localdate() - datetime.timedelta(days=1))
    programme = ProgrammeFactory(sponsor=sponsor)
    application = ApplicationFactory(call=call, programme=programme, status=Application.Status.DRAFT, submitted_at=None)
    page = sponsor_client(client, member_of, sponsor).get(reverse("calls:application", kwargs={"pk": application.pk}))
    assert "date limite de dépôt de cet appel est passée" in page.content.decode()
    with pytest.raises(DomainError) as error:
        services.submit_application(application=application)
    assert error.value.code == Refusal.CALL_DEADLINE_PASSED
    assert Application.objects.get(pk=application.pk).status == Application.Status.DRAFT


def test_the_programme_form_shows_the_agreement_share_read_only_and_keeps_it(client, member_of, sponsor):
    programme = ProgrammeFactory(sponsor=sponsor)
    application = ApplicationFactory(programme=programme, requested_share_bp=4000)
    agreement = services.select_application(application=application)
    page = sponsor_client(client, member_of, sponsor)
    url = reverse("sponsors:programme_edit", kwargs={"pk": programme.pk})
    form = page.get(url).context["form"]
    assert form.fields["agreement_cofunders"].disabled
    assert "40 % (convention de cofinancement)" in form.initial["agreement_cofunders"]
    assert application.call.funder.name not in form.initial["cofunders"]
    data = {
        key: value
        for key, value in form.initial.items()
        if key not in {"eligible_levels", "eligible_subcategories", "eligible_services", "audiences"}
    }
    data.update(
        {
            "face_value_euros": "10",
            "valid_until": programme.valid_until.strftime("%d/%m/%Y"),
            "cofunders": f"{application.call.funder.name} ; 60",
            "agreement_cofunders": "tampered ; 1",
        }
    )
    response = page.post(url, data)
    assert "fixée par une convention de cofinancement" in response.context["form"].errors["cofunders"][0]
    assert CoFunder.objects.get(pk=agreement.cofunder_id).share_bp == 4000
    data["cofunders"] = "Région ; 10"
    response = page.post(url, data)
    assert response.status_code == 302
    assert sorted(CoFunder.objects.filter(programme=programme).values_list("name", "share_bp")) == sorted(
        [(application.call.funder.name, 4000), ("Région", 1000)]
    )


def test_a_funder_home_asks_a_bounded_number_of_queries(funder_client, funder, django_assert_max_num_queries):
    for _ in range(3):
        call = CallFactory(funder=funder)
        services.select_application(application=ApplicationFactory(call=call))
        ApplicationFactory(call=call)
        FunderStatementFactory(funder=funder)
    with django_assert_max_num_queries(16):
        response = funder_client.get(reverse("calls:funder_home"))
    assert response.status_code == 200


def test_another_organisations_objects_answer_404(client, member_of, funder, sponsor):
    theirs = CallFactory()
    their_application = ApplicationFactory(call=theirs)
    their_statement = FunderStatementFactory()
    client.force_login(member_of(funder, role="admin"))
    for name, pk in [
        ("calls:call", theirs.pk),
        ("calls:call_edit", theirs.pk),
        ("calls:call_publish", theirs.pk),
        ("calls:call_close", theirs.pk),
        ("calls:received", their_application.pk),
        ("calls:statement_pdf", their_statement.pk),
    ]:
        url = reverse(name, kwargs={"pk": pk})
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"action": "select"}).status_code == 404, name
    assert Application.objects.get(pk=their_application.pk).status == Application.Status.SUBMITTED
    client.force_login(member_of(sponsor, role="admin"))
    url = reverse("calls:application", kwargs={"pk": their_application.pk})
    assert client.get(url).status_code == 404
    # Another sponsor's programme is not offered, and naming it is refused.
    response = client.post(reverse("calls:application_new"), application_form(theirs, their_application.programme))
    assert "programme" in response.context["form"].errors
    # A draft call is no one's to read but its funder's.
    draft = CallFactory(draft=True)
    assert client.get(reverse("calls:application_new"), {"appel": draft.pk}).status_code == 200
    assert draft.title not in client.get(reverse("calls:open_calls")).content.decode()


def test_a_funder_member_downloads_its_statement_pdf(funder_client, funder):
    statement = FunderStatementFactory(funder=funder)
    response = funder_client.get(reverse("calls:statement_pdf", kwargs={"pk": statement.pk}))
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"%PDF")
    assert FunderStatement.objects.count() == 1


def test_a_funder_issues_an_ended_quarter_and_is_told_when_not_ended(funder_client, funder):
    # The current year's 4th quarter has not ended yet.
    response = funder_client.post(reverse("calls:statement_issue"), {"year": timezone.localdate().year, "quarter": "4"})
    assert "pas terminé" in response.context["form"].non_field_errors()[0]
    assert not FunderStatement.objects.exists()
    response = funder_client.post(reverse("calls:statement_issue"), {"year": "2025", "quarter": "1"})
    assert response.status_code == 302
    assert FunderStatement.objects.get(funder=funder).number.startswith("COF-")


def test_a_draft_is_edited_then_submitted_and_the_funder_never_sees_it_as_a_draft(client, member_of, sponsor, funder):
    call = CallFactory(funder=funder, priority_audiences=["job_seekers"], priority_min_bp=2000)
    programme = ProgrammeFactory(sponsor=sponsor)
    client.force_login(member_of(sponsor, role="admin"))
    client.post(reverse("calls:application_new"), application_form(call, programme, action="draft"))
    application = Application.objects.get()
    assert application.status == Application.Status.DRAFT
    client.force_login(member_of(funder, role="member"))
    assert client.get(reverse("calls:received", kwargs={"pk": application.pk})).status_code == 404
    client.force_login(member_of(sponsor, role="member"))
    url = reverse("calls:application", kwargs={"pk": application.pk})
    response = client.post(url, application_form(call, programme, booklet_count="300", action="submit"))
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.booklet_count, application.amount_cents) == (
        Application.Status.SUBMITTED,
        300,
        300 * 10_000,
    )
    client.force_login(member_of(funder, role="member"))
    assert client.get(reverse("calls:received", kwargs={"pk": application.pk})).status_code == 200


def test_the_applications_of_a_call_are_searched_and_paginated(funder_client, funder):
    call = CallFactory(funder=funder)
    for number in range(27):
        ApplicationFactory(call=call, programme=ProgrammeFactory(name=f"Programme Landes {number:02d}"))
    ApplicationFactory(call=call, programme=ProgrammeFactory(name="Pass Gironde"))
    url = reverse("calls:call", kwargs={"pk": call.pk})
    first = funder_client.get(url)
    assert len(first.context["applications"]) == 25 and "Page 1 sur 2" in first.content.decode()
    found = funder_client.get(url, {"q": "gironde"})
    assert [a.programme.name for a in found.context["applications"]] == ["Pass Gironde"]
    assert "Aucune candidature ne correspond" in funder_client.get(url, {"q": "Corrèze"}).content.decode()

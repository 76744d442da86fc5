"""From sign-up to the finder and the open data: the issue's "done when"."""

import csv
import io
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearing.payees.models import PayeeStatus
from clearing.payees.selectors import current_payee_account
from mediators.qualification.models import Choice, QualificationStatus, Question, SchemeSettings, Site
from passnum.organisations.validators import siret_from_prefix
from tests.factories import UserFactory
from tests.mediators.factories import PDF_BYTES, VALID_BIC, VALID_IBAN

pytestmark = pytest.mark.django_db


def test_from_sign_up_to_finder_and_open_data(client, operator_user, django_capture_on_commit_callbacks):
    user = UserFactory()
    client.force_login(user)

    response = client.get(reverse("mediators:dashboard"))
    assert response.status_code == 403
    assert reverse("mediators:register") in response.content.decode()
    assert "Inscrire ma structure" in response.content.decode()

    response = client.post(
        reverse("mediators:register"),
        {
            "name": "Les Clics du Lac",
            "siret": siret_from_prefix("555666770001"),
            "legal_form": "association",
            "sector": "private",
            "address": "1 rue du Lac",
            "postcode": "33400",
            "city": "Talence",
        },
    )
    assert response.status_code == 302, response.content.decode()
    site = Site.objects.get(organisation__name="Les Clics du Lac")
    page = client.get(reverse("mediators:dashboard")).content.decode()
    assert "Dossier en cours" in page and "répondre au questionnaire" in page.lower()

    steps = [
        (
            reverse("mediators:point_add"),
            {
                "name": "Les Clics du Lac",
                "address": "1 rue du Lac",
                "postcode": "33400",
                "commune": "Talence",
                "insee_code": "33522",
                "latitude": "44,8083",
                "longitude": "-0.588",
                "phone": "05 56 00 00 00",
                "regulated_free": "on",
                "wheelchair_accessible": "on",
            },
        ),
        (
            reverse("mediators:questionnaire"),
            {
                f"q{q.pk}": Choice.objects.filter(question=q).order_by("-points").first().pk
                for q in Question.objects.filter(is_active=True)
            },
        ),
        (reverse("mediators:charter"), {"version": SchemeSettings.load().charter_version, "accept": "on"}),
        (
            reverse("mediators:catalogue"),
            {
                "service": "3",
                "passes_required": "1",
                "format": "individual",
                "duration_minutes": "60",
                "tariff_euros": "10",
            },
        ),
        (reverse("mediators:documents"), {"kind": "statutes", "file": SimpleUploadedFile("statuts.pdf", PDF_BYTES)}),
        (
            reverse("mediators:bank"),
            {
                "payee_kind": "self",
                "holder_name": "Les Clics du Lac",
                "iban": "FR76 3000 6000 0112 3456 7890 189",
                "bic": VALID_BIC,
            },
        ),
        (
            reverse("mediators:identity"),
            {"legal_form": "association", "sector": "private", "audiences": ["seniors", "women"]},
        ),
    ]
    for url, data in steps:
        response = client.post(url, data)
        assert response.status_code == 302, (
            url,
            re.findall(r"errorlist[^>]*>(.*?)</ul>", response.content.decode(), re.S),
        )

    response = client.post(reverse("mediators:submit"))
    site.refresh_from_db()
    assert site.status == QualificationStatus.SUBMITTED
    assert client.get(reverse("mediators:finder")).context["page"].paginator.count == 0

    # The operator qualifies it in the console, through the confirmation page.
    client.force_login(operator_user)
    changelist = reverse("admin:mediators_site_changelist")
    assert "Les Clics du Lac" in client.get(changelist + "?status__exact=submitted").content.decode()
    response = client.post(changelist, {"action": "decide_qualify", "_selected_action": [site.pk]})
    assert response.status_code == 200 and "Motif" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "decide_qualify", "_selected_action": [site.pk], "confirm": "1", "reason": ""}
        )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.status == QualificationStatus.QUALIFIED
    assert mail.outbox[-1].to == [user.email]

    # It now appears in the finder and the open data.
    client.logout()
    page = client.get(reverse("mediators:finder"), {"place": "33400"}).content.decode()
    assert "Les Clics du Lac" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/sites.csv").content.decode())))
    assert [row["nom"] for row in rows] == ["Les Clics du Lac"]
    assert rows[0]["telephone"] == "+33556000000"
    assert rows[0]["publics_specifiquement_adresses"] == "Seniors|Femmes"

    # The payee account must be verified by the operator.
    account = current_payee_account(organisation=site.organisation)
    assert account.status == PayeeStatus.TO_VERIFY
    client.force_login(operator_user)
    changelist = reverse("admin:payees_payeeaccount_changelist")
    client.post(changelist, {"action": "verify", "_selected_action": [account.pk]})  # what is verified, shown
    client.post(
        changelist, {"action": "verify", "_selected_action": [account.pk], "version": [account.pk], "confirm": "yes"}
    )
    account.refresh_from_db()
    assert account.status == PayeeStatus.VERIFIED
    assert account.iban == VALID_IBAN


def test_decision_page_requires_a_reason_for_suspension(client, operator_user):
    from tests.mediators.factories import SiteFactory

    site = SiteFactory(qualified=True)
    client.force_login(operator_user)
    changelist = reverse("admin:mediators_site_changelist")
    client.post(changelist, {"action": "decide_suspend", "_selected_action": [site.pk], "confirm": "1", "reason": ""})
    site.refresh_from_db()
    assert site.status == QualificationStatus.QUALIFIED
    client.post(
        changelist,
        {"action": "decide_suspend", "_selected_action": [site.pk], "confirm": "1", "reason": "Plaintes répétées"},
    )
    site.refresh_from_db()
    assert site.status == QualificationStatus.SUSPENDED and site.decision_reason == "Plaintes répétées"
    # The site sees the reason on its dashboard.
    from tests.factories import MembershipFactory

    member = UserFactory()
    MembershipFactory(user=member, organisation=site.organisation, role="admin")
    client.force_login(member)
    page = client.get(reverse("mediators:dashboard")).content.decode()
    assert "Plaintes répétées" in page and "Qualification suspendue" in page

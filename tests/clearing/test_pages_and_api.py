"""The site's statements: /site/releves/ and the API, each organisation seeing only its own."""

import pytest
from rest_framework.test import APIClient

from clearing import services
from clearing.models import Statement
from passnum.organisations.services import create_api_token
from tests.clearing.factories import StatementFactory, paris, redeeming_site, redemptions_in
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(django_capture_on_commit_callbacks):
    """A site with a statement for October 2026 (PDF rendered) and pending redemptions."""
    place = redeeming_site()
    redemptions_in(place, paris(2026, 10, 5), count=2)
    with django_capture_on_commit_callbacks(execute=True):
        number = services.close_month(month="2026-10", now=paris(2026, 11, 1, 2)).numbers[0]
    redemptions_in(place, paris(2026, 11, 5), count=1)
    return place, Statement.objects.get(number=number)


def api_client(organisation, user):
    _token, key = create_api_token(organisation=organisation, user=user, name="logiciel")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_list_shows_statements_and_what_is_pending(client, closed):
    place, statement = closed
    client.force_login(place.user)
    response = client.get("/site/releves/")
    text = response.content.decode()
    assert response.status_code == 200
    assert statement.number in text and f"/site/releves/{statement.number}/pdf/" in text
    assert "Prochain relevé" in text and "10,00" in text  # one pending redemption of 10 €


def test_detail_and_pdf_for_the_owner_404_for_another_site(client, closed, member_of):
    place, statement = closed
    client.force_login(place.user)
    detail = client.get(f"/site/releves/{statement.number}/")
    assert detail.status_code == 200 and "Encaissements par lieu et par service" in detail.content.decode()
    pdf = client.get(f"/site/releves/{statement.number}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    outsider = redeeming_site()
    client.force_login(outsider.user)
    assert client.get(f"/site/releves/{statement.number}/").status_code == 404
    assert client.get(f"/site/releves/{statement.number}/pdf/").status_code == 404
    assert statement.number not in client.get("/site/releves/").content.decode()


def test_api_lists_by_year_and_reads_one_statement_with_its_groups(closed):
    place, statement = closed
    client = api_client(place.organisation, place.user)
    listing = client.get("/api/v1/statements", {"year": 2026})
    assert listing.status_code == 200
    assert [s["number"] for s in listing.json()["results"]] == [statement.number]
    assert client.get("/api/v1/statements", {"year": 2025}).json()["results"] == []
    bad = client.get("/api/v1/statements", {"year": "deux"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"

    detail = client.get(f"/api/v1/statements/{statement.number}").json()
    assert detail["total_cents"] == statement.total_cents == sum(g["amount_cents"] for g in detail["groups"])
    assert detail["groups"][0]["point_of_presence"] == place.point.name
    pdf = client.get(f"/api/v1/statements/{statement.number}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_api_answers_404_across_organisations_and_403_to_other_kinds(closed):
    _place, statement = closed
    outsider = redeeming_site()
    client = api_client(outsider.organisation, outsider.user)
    for url in (f"/api/v1/statements/{statement.number}", f"/api/v1/statements/{statement.number}/pdf"):
        response = client.get(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/statements").json()["results"] == []

    sponsor = MembershipFactory(organisation__kind="sponsor")
    response = api_client(sponsor.organisation, sponsor.user).get("/api/v1/statements")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_a_pdf_not_ready_yet_is_a_clear_404(client):
    statement = StatementFactory(pdf="")
    user = MembershipFactory(organisation=statement.site.organisation).user
    client.force_login(user)
    assert client.get(f"/site/releves/{statement.number}/pdf/").status_code == 404
    response = api_client(statement.site.organisation, user).get(f"/api/v1/statements/{statement.number}/pdf")
    assert response.status_code == 404 and "préparation" in response.json()["error"]["message"]

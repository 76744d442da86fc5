"""The programme's report: its tables on the programme page and in the API (JSON and CSV), small
counts suppressed, a fixed number of SQL queries whatever the data, periods checked, 404 across
organisations."""

import csv
import io

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from passnum.organisations.services import create_api_token
from passnum.passes import services as pass_services
from tests.beneficiaries.factories import HandOverFactory, booklets_in_stock
from tests.clearing.factories import paris, redemptions_in
from tests.factories import OrganisationFactory
from tests.mediators.factories import redeeming_site

pytestmark = pytest.mark.django_db

PAGE_QUERIES = 20  # the goal of bench/dashboard.py, whatever the data (see the test below)


def build(*, booklets: int, redemptions: list[int], sites: int = 1):
    """A programme whose ``booklets`` are handed out by one prescriber; booklet ``i`` has
    ``redemptions[i]`` one-pass redemptions at site ``i % sites``, in March 2026."""
    prescriber = OrganisationFactory(prescriber=True, name="Mairie de Pessac")
    handed = booklets_in_stock(prescriber, booklets, departments=["33"], communes=[])
    places = [redeeming_site() for _ in range(sites)]
    for i, booklet in enumerate(handed):
        pass_services.hand_out_booklet(booklet)
        HandOverFactory(organisation=prescriber, booklet=booklet, at=paris(2026, 3, 2))
        if i < len(redemptions) and redemptions[i]:
            redemptions_in(places[i % sites], paris(2026, 3, 10), count=redemptions[i], booklet=booklet)
    return handed[0].programme


@pytest.fixture
def sponsor_client(client, member_of):
    def login(programme):
        client.force_login(member_of(programme.sponsor, role="admin"))
        return client

    return login


def page(client, programme, **params):
    return client.get(reverse("sponsors:programme", kwargs={"pk": programme.pk}), params)


def test_the_page_shows_each_table_with_small_counts_suppressed(sponsor_client):
    programme = build(booklets=3, redemptions=[3, 8, 10])
    response = page(sponsor_client(programme), programme)
    html = response.content.decode()
    assert response.status_code == 200
    for caption in (
        "Carnets du programme, à ce jour",
        "Pass par état et leur valeur, à ce jour",
        "Encaissements par mois",
        "Encaissements par semaine",
        "Encaissements par niveau, sous-catégorie et service #APTIC",
        "Encaissements par structure et par lieu",
        "Encaissements par commune du lieu",
        "Remises par département de la personne",
        "Remises par prescripteur",
    ):
        assert caption in html, caption
    report = response.context["report"]
    # 21 redemptions in March at one site and one place: shown, they are not small.
    assert [(r["label"], r["count"], r["hidden"]) for r in report["by_month"]["rows"]] == [("mars 2026", 21, None)]
    # Three hand-overs by the prescriber: « < 5 », and the total (the same 3) too.
    prescriber = report["by_prescriber"]["rows"][0]
    assert (prescriber["label"], prescriber["count"], prescriber["hidden"]) == ("Mairie de Pessac", 3, "primary")
    assert "&lt; 5" in html and 'scope="col"' in html and 'scope="row"' in html
    counters = {c["key"]: c for c in report["counters"]}
    assert counters["handed_out"]["count"] == 3 and counters["handed_out"]["hidden"] == "primary"
    # Booklets with 3 and 8 passes used are started; the one with all 10 used is used up.
    assert (counters["started"]["count"], counters["used_up"]["count"]) == (2, 1)
    states = {row["key"]: row for row in report["pass_states"]["rows"]}
    assert states["redeemed_unsettled"]["passes"] == 21
    assert states["redeemed_unsettled"]["cents"] == 21 * programme.face_value_cents
    assert report["pass_states"]["total"]["passes"] == 30


def test_the_number_of_queries_does_not_grow_with_the_data(sponsor_client):
    def queries(client, programme) -> list[str]:
        page(client, programme)  # warm the session and the referential caches
        reset_queries()  # the log keeps 9,000 queries at most: a full log would capture none
        with CaptureQueriesContext(connection) as captured:
            assert page(client, programme).status_code == 200
        # Read now: the captured queries are a slice of the live log, which the next request resets.
        return [query["sql"][:120] for query in captured.captured_queries]

    small = build(booklets=1, redemptions=[1])
    small_queries = queries(sponsor_client(small), small)
    large = build(booklets=6, redemptions=[2, 7, 1, 4, 9, 3], sites=3)
    client = sponsor_client(large)
    large_queries = queries(client, large)
    assert sum(r["count"] for r in page(client, large).context["report"]["by_place"]["rows"]) == 26
    assert len(large_queries) == len(small_queries), large_queries
    # Four for the session and the account, three for the programme, its co-funders and orders,
    # three for booklets and passes, nine for the report's tables and names (the places by month
    # also serve the places' communes and the unusual-volume alert), one for the alerts sent.
    assert len(large_queries) <= PAGE_QUERIES, large_queries


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"du": "2026-06", "au": "2026-01"}, "La période est à l&#x27;envers"),
        ({"du": "1999-01"}, "doit être entre 2015"),
        ({"au": "mars"}, "doit s&#x27;écrire AAAA-MM"),
        ({"du": "2026-13"}, "doit s&#x27;écrire AAAA-MM"),
    ],
)
def test_a_wrong_period_is_explained_in_french_never_an_error_page(sponsor_client, params, message):
    programme = build(booklets=1, redemptions=[6])
    response = page(sponsor_client(programme), programme, **params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["report"]["period"].is_whole  # the whole programme is shown instead


def test_the_period_filters_redemptions(sponsor_client):
    programme = build(booklets=1, redemptions=[6])
    client = sponsor_client(programme)
    assert page(client, programme, du="2026-03", au="2026-03").context["report"]["by_month"]["total"]["count"] == 6
    assert page(client, programme, du="2026-04").context["report"]["by_month"]["rows"] == []


def api_headers(programme, member_of):
    _token, key = create_api_token(
        organisation=programme.sponsor, user=member_of(programme.sponsor, role="admin"), name="rapport"
    )
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def test_the_api_gives_the_same_suppressed_figures_in_json_and_csv(client, member_of):
    programme = build(booklets=2, redemptions=[3, 8])
    headers = api_headers(programme, member_of)
    url = reverse("api:report-programme", kwargs={"id": programme.pk})

    body = client.get(url, **headers).json()
    tables = {t["key"]: t for t in body["tables"]}
    prescriber = tables["by_prescriber"]["rows"][0]
    assert prescriber["count"] is None and prescriber["suppressed"] == "< 5" and prescriber["in_stock"] == 0
    assert tables["by_month"]["total"]["count"] == 11 and tables["by_month"]["total"]["suppressed"] is None
    assert body["programme"] == {"id": programme.pk, "name": programme.name}

    response = client.get(url, {"format": "csv", "du": "2026-03"}, **headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_prescriber = [r for r in rows if r["tableau"] == "by_prescriber" and r["libelle"] == "Mairie de Pessac"]
    assert by_prescriber[0]["nombre"] == "< 5"
    assert [r["nombre"] for r in rows if r["tableau"] == "by_month"] == ["11", "11"]  # March, then the total


def test_the_api_refuses_a_reversed_period_and_hides_other_sponsors_programmes(client, member_of):
    programme = build(booklets=1, redemptions=[6])
    url = reverse("api:report-programme", kwargs={"id": programme.pk})
    response = client.get(url, {"du": "2026-06", "au": "2026-01"}, **api_headers(programme, member_of))
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert "à l'envers" in response.json()["error"]["message"]

    other = build(booklets=1, redemptions=[1])
    response = client.get(url, **api_headers(other, member_of))
    assert response.status_code == 404 and programme.name not in response.content.decode()

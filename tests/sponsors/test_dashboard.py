"""The programme dashboard beyond its tables: charts carrying exactly the tables' shown figures,
the people's communes, the territory filter (page and API) and the alerts at the top."""

import datetime
import json
import re

import pytest
import time_machine
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clearing import services as clearing_services
from mediators.places.models import PointOfPresence
from passnum.passes import services as pass_services
from sponsors.reporting.alerts import unusual_sites
from tests.beneficiaries.factories import HandOverFactory, booklets_in_stock
from tests.clearing.factories import paris, redemptions_in
from tests.factories import OrganisationFactory
from tests.mediators.factories import redeeming_site
from tests.sponsors.test_reporting import PAGE_QUERIES, api_headers, build, page

pytestmark = pytest.mark.django_db

LILLE, BORDEAUX, TALENCE = "59350", "33063", "33522"


@pytest.fixture
def sponsor_client(client, member_of):
    def login(programme):
        client.force_login(member_of(programme.sponsor, role="admin"))
        return client

    return login


def chart_data(response) -> dict:
    """The charts' JSON as the browser reads it (json_script), by chart key."""
    found = re.search(
        r'<script id="report-charts-data" type="application/json">(.*?)</script>', response.content.decode()
    )
    return {chart["id"].removeprefix("chart-"): chart for chart in json.loads(found[1])}


def test_each_chart_draws_its_tables_shown_figures_and_never_a_suppressed_one(sponsor_client):
    # Three sites: 3 redemptions (« < 5 »), 8 (masked beside it) and 10 (shown).
    programme = build(booklets=3, redemptions=[3, 8, 10], sites=3)
    response = page(sponsor_client(programme), programme)
    html = response.content.decode()
    report, charts = response.context["report"], chart_data(response)

    sites = charts["site"]
    assert sites["labels"] == [row["label"] for row in report["by_place"]["rows"]]
    assert sorted(sites["values"], key=lambda v: v or 0) == [None, None, 10]
    assert sites["missing"] == ["< 5", "masqué"]
    assert "&lt; 5" in html and "masqué" in html  # the table still says it
    for key, table, figure in (("month", "by_month", "count"), ("passes", "pass_states", "passes")):
        assert charts[key]["values"] == [row[figure] for row in report[table]["rows"]]
    assert charts["month"]["values"] == [21]
    # The prescriber's 3 hand-overs are « < 5 »: its pace is not drawn either.
    assert charts["pace"]["values"] == [None]
    # Every canvas has a name and points to the sentence naming its table; the script is a file.
    for chart in charts.values():
        assert f'<canvas id="{chart["id"]}" role="img" aria-label="Graphique : ' in html
        assert f'aria-describedby="{chart["id"]}-note"' in html and f'href="#{chart["table"]}"' in html
    assert "js/report-charts.js" in html and "vendor/chart.js/chart.umd.min.js" in html
    assert "<script>" not in html  # nothing inline: the CSP allows only files


def two_territories():
    """Booklets 0-1 handed to people of Bordeaux, 2-3 to people of Lille; booklets 0 and 2
    redeemed at a place in Talence (33), 1 and 3 at a place in Lille (59)."""
    prescriber = OrganisationFactory(prescriber=True, name="Mairie de Pessac")
    handed = booklets_in_stock(prescriber, 4, departments=["33", "59"], communes=[])
    talence, lille = redeeming_site(), redeeming_site()
    PointOfPresence.objects.filter(pk=lille.point.pk).update(insee_code=LILLE, commune="Lille", postcode="59000")
    for i, booklet in enumerate(handed):
        pass_services.hand_out_booklet(booklet)
        HandOverFactory(
            organisation=prescriber,
            booklet=booklet,
            at=paris(2026, 3, 2),
            beneficiary__commune=BORDEAUX if i < 2 else LILLE,
        )
        redemptions_in(talence if i % 2 == 0 else lille, paris(2026, 3, 10), count=5 + i, booklet=booklet)
    return handed[0].programme


def test_people_are_counted_where_they_live_as_well_as_where_they_were_served(sponsor_client):
    programme = two_territories()
    report = page(sponsor_client(programme), programme).context["report"]
    # Redemptions by the person's department → commune: Bordeaux 5+6, Lille 7+8.
    people = {row["key"]: row for row in report["by_beneficiary_commune"]["rows"]}
    assert (people["33"]["count"], people["33"]["children"][0]["key"], people["33"]["children"][0]["count"]) == (
        11,
        BORDEAUX,
        11,
    )
    assert people["59"]["count"] == 15 and people["59"]["cents"] == 15 * programme.face_value_cents
    # ... and by the place's commune: Talence 5+7, Lille 6+8.
    places = {row["key"]: row["count"] for row in report["by_place_commune"]["rows"]}
    assert places == {TALENCE: 12, LILLE: 14}
    # Hand-overs: 2 per commune, « < 5 »; the department table is the top of the same hierarchy.
    tree = report["by_person_commune"]
    assert [(row["key"], row["count"], row["hidden"]) for row in tree["rows"]] == [
        ("33", 2, "primary"),
        ("59", 2, "primary"),
    ]
    assert [(row["key"], row["hidden"]) for row in report["by_department"]["rows"]] == [
        ("33", "primary"),
        ("59", "primary"),
    ]
    assert report["by_department"]["total"] == tree["total"] and "children" not in report["by_department"]["rows"][0]


def test_a_department_narrows_redemptions_by_place_and_hand_overs_by_person(sponsor_client):
    programme = two_territories()
    client = sponsor_client(programme)
    response = page(client, programme, territoire="59")
    report = response.context["report"]
    assert report["territory"].label == "Nord (59)"
    assert report["by_month"]["total"]["count"] == 6 + 8  # at the place in Lille only
    assert {row["key"] for row in report["by_place_commune"]["rows"]} == {LILLE}
    # Redemptions are narrowed by their place: at Lille, people of Bordeaux (6) and of Lille (8).
    assert [row["count"] for row in report["by_beneficiary_commune"]["rows"]] == [6, 8]
    assert [row["key"] for row in report["by_department"]["rows"]] == ["59"]
    assert report["by_prescriber"]["rows"][0]["count"] == 2
    # The booklets are the whole programme's.
    assert {c["key"]: c["count"] for c in report["counters"]}["issued"] == 4
    assert "pour le territoire Nord (59)" in response.content.decode()
    assert "territoire=59" in response.content.decode()  # the CSV link keeps the filter

    commune = page(client, programme, territoire=TALENCE).context["report"]
    assert commune["territory"].kind == "commune"
    assert commune["by_month"]["total"]["count"] == 5 + 7
    assert commune["by_department"]["rows"] == []  # nobody handed a booklet lives in Talence


@pytest.mark.parametrize("code", ["33000", "99", "abc", "2C", "99999", "33063; DROP"])
def test_an_unknown_territory_is_explained_in_french_and_the_whole_programme_shown(sponsor_client, code):
    programme = build(booklets=1, redemptions=[6])
    response = page(sponsor_client(programme), programme, territoire=code)
    html = response.content.decode()
    assert response.status_code == 200
    assert "n&#x27;est ni un département ni une commune connus" in html
    assert 'aria-invalid="true"' in html and 'id="territory-error"' in html
    assert response.context["report"]["territory"] is None
    assert response.context["report"]["by_month"]["total"]["count"] == 6


def test_the_api_takes_the_same_territory_and_refuses_an_unknown_one(client, member_of):
    programme = two_territories()
    headers = api_headers(programme, member_of)
    url = reverse("api:report-programme", kwargs={"id": programme.pk})

    body = client.get(url, {"territoire": "59"}, **headers).json()
    assert body["territory"] == {"code": "59", "kind": "department", "label": "Nord (59)"}
    tables = {table["key"]: table for table in body["tables"]}
    assert tables["by_month"]["total"]["count"] == 14
    assert tables["by_beneficiary_commune"]["total"]["count"] == 14
    assert client.get(url, **headers).json()["territory"] is None

    response = client.get(url, {"territoire": "33000"}, **headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "territory_unknown"
    assert "code postal" in response.json()["error"]["message"]


def test_a_filtered_page_asks_as_few_queries_whatever_the_data(sponsor_client):
    def queries(client, programme) -> int:
        page(client, programme, territoire="33")
        reset_queries()  # the log keeps 9,000 queries at most: a full log would capture none
        with CaptureQueriesContext(connection) as captured:
            page(client, programme, territoire="33")
        return len(captured.captured_queries)  # now: the next request resets the log

    small = build(booklets=1, redemptions=[1])
    large = two_territories()
    # A department is named from the referential's names kept in memory: no query more than the
    # whole programme's page.
    assert queries(sponsor_client(small), small) == queries(sponsor_client(large), large) <= PAGE_QUERIES


# --- Alerts ---------------------------------------------------------------------------------


def months(site_counts: dict, *, site="Centre social"):
    return [
        {"site_id": 1, "site_name": site, "month": datetime.date(2026, month, 1), "count": count}
        for month, count in site_counts.items()
    ]


def test_a_site_is_unusual_only_above_three_times_its_monthly_median():
    june = datetime.date(2026, 6, 1)
    # Previous months 5, 6, 7 (median 6): 18 is exactly three times, 19 is more.
    assert unusual_sites(months=months({3: 5, 4: 6, 5: 7, 6: 18}), this_month=june) == []
    assert unusual_sites(months=months({3: 5, 4: 6, 5: 7, 6: 19}), this_month=june) == [
        {"site": "Centre social", "count": 19, "median": 6}
    ]
    # A month without redemptions counts 0 in the median (here 5, 0, 7: median 5).
    assert unusual_sites(months=months({3: 5, 5: 7, 6: 16}), this_month=june)[0]["median"] == 5
    # A new site (no previous month) and a small count (« < 5 ») are not compared.
    assert unusual_sites(months=months({6: 40}), this_month=june) == []
    assert unusual_sites(months=months({3: 1, 4: 1, 5: 1, 6: 4}), this_month=june) == []


def test_the_page_lists_the_alerts_with_their_figures(sponsor_client, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    this_month = today.replace(day=1)
    prescriber = OrganisationFactory(prescriber=True, name="Mairie de Pessac")
    # Six booklets given to the prescriber 70 days ago; four stay in its stock, untouched since.
    with time_machine.travel(timezone.now() - datetime.timedelta(days=70), tick=False):
        booklets = booklets_in_stock(
            prescriber, 6, departments=["33"], communes=[], valid_until=today + datetime.timedelta(days=10)
        )
    programme = booklets[0].programme
    busy = redeeming_site()
    # The busy site: 2 redemptions in each of the three previous months (median 2), 7 this month.
    at = timezone.make_aware(datetime.datetime.combine(this_month, datetime.time(10)))
    previous = [at - datetime.timedelta(days=days) for days in (80, 79, 50, 49, 20, 19)]
    for booklet in booklets[:2]:
        pass_services.hand_out_booklet(booklet)
        HandOverFactory(organisation=prescriber, booklet=booklet, at=previous[0])
    redemptions_in(busy, previous, count=6, booklet=booklets[0])
    redemptions_in(busy, [at] * 7, count=7, booklet=booklets[1])
    with django_capture_on_commit_callbacks(execute=True):
        clearing_services.send_expiry_alerts(today=today)

    report = page(sponsor_client(programme), programme).context["report"]
    alerts = {alert["kind"]: alert for alert in report["alerts"]}
    assert (
        alerts["expiry"]["label"] == "J-15" and alerts["expiry"]["figure"] == 20 - 13
    )  # passes of the two booklets handed out
    assert "dans 10 jours" in alerts["expiry"]["text"] and "7 pass encore utilisables" in alerts["expiry"]["text"]
    assert f"envoyée le {today:%d/%m/%Y}" in alerts["expiry"]["text"]
    assert alerts["idle"]["text"] == (
        "Mairie de Pessac : 4 carnets sur 4 en stock sans mouvement depuis plus de 60 jours."
    )
    assert alerts["unusual"]["figure"] == 7 and "médiane mensuelle des mois précédents (2)" in alerts["unusual"]["text"]
    html = page(sponsor_client(programme), programme).content.decode()
    assert "À surveiller" in html and "7 pass encore utilisables" in html


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(31, None), (30, 30), (16, 30), (15, 15), (8, 15), (7, 7), (0, 7), (-1, None)],
)
def test_the_end_of_programme_alert_follows_the_nightly_jobs_thresholds(days_left, threshold):
    from clearing.selectors import programme_expiry_alert
    from tests.sponsors.factories import ProgrammeFactory

    today = datetime.date(2026, 6, 10)
    programme = ProgrammeFactory(valid_until=today + datetime.timedelta(days=days_left))
    alert = programme_expiry_alert(programme=programme, today=today)
    assert (alert and alert["threshold"]) == threshold
    if alert:
        assert alert["days_left"] == days_left and alert["sent_at"] is None  # the job has not run
    programme.status = programme.Status.CLOSED
    assert programme_expiry_alert(programme=programme, today=today) is None

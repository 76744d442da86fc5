"""The operator's overview (/operateur/): staff with a second factor only, scheme-wide figures that
match the data, charts fed with the very figures of the tables, a fixed number of queries."""

import datetime
import json
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clearing.payments import services as payment_services
from passnum.passes import services as pass_services
from passnum.passes.models import Pass
from tests.beneficiaries.factories import HandOverFactory, booklets_in_stock
from tests.clearing.factories import paris, redemptions_in
from tests.clearing.payments.factories import statement_to_pay
from tests.factories import OrganisationFactory, UserFactory
from tests.mediators.factories import redeeming_site

pytestmark = pytest.mark.django_db

TODAY = paris(2026, 11, 20)
URL = "/operateur/"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def build(*, booklets: int = 3, redemptions: int = 3):
    """A programme with ``booklets`` booklets at a prescriber, two handed out (September and
    October), ``redemptions`` one-pass redemptions in September; a site paid for October (two
    passes of a second programme); a programme ending in 20 days; an unpaid order."""
    prescriber = OrganisationFactory(prescriber=True)
    stock = booklets_in_stock(prescriber, booklets, departments=["33"], communes=[])
    for booklet, when in zip(stock[:2], (paris(2026, 9, 2), paris(2026, 10, 3)), strict=True):
        pass_services.hand_out_booklet(booklet)
        HandOverFactory(organisation=prescriber, booklet=booklet, at=when)
    redemptions_in(redeeming_site(), paris(2026, 9, 10), count=redemptions, booklet=stock[0])
    operator = UserFactory(staff=True)
    statement = statement_to_pay(passes=2, month=10)
    batch = payment_services.create_batch(statements=[statement], by=operator).batch
    payment_services.mark_batch_sent(batch=batch, by=operator)
    payment_services.mark_batch_paid(batch=batch, by=operator)
    ending = booklets_in_stock(prescriber, 1, valid_until=datetime.date(2026, 12, 10))[0]
    booklets_in_stock(prescriber, 1, paid=False)
    return {"stock": stock, "ending": ending, "batch": batch, "statement": statement}


def test_only_operator_staff_with_a_second_factor_see_it(client, member_of, operator_user):
    assert client.get(URL).status_code == 302  # anonymous: to the login page
    sponsor_admin = member_of(OrganisationFactory(sponsor=True), role="admin")
    client.force_login(sponsor_admin)
    assert client.get(URL).status_code == 403
    client.force_login(UserFactory(staff=True))  # staff without a second factor: set it up first
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_activate_totp"))
    client.force_login(operator_user)
    response = client.get(URL)
    assert response.status_code == 200
    assert "<h1>Vue d'ensemble du dispositif</h1>" in response.content.decode()
    # Linked from the operator's space and from the console.
    assert URL in client.get(reverse("dashboard")).content.decode()
    assert URL in client.get(reverse("admin:index")).content.decode()


def test_the_figures_are_those_of_the_scheme(client, operator_user):
    data = build()
    client.force_login(operator_user)
    response = client.get(URL)
    overview = response.context["overview"]
    passes = {row["key"]: (row["passes"], row["cents"]) for row in overview["passes"]}
    # Sold: 3 booklets + the paid site's booklet + the ending programme's = 50 passes (the unpaid
    # order's 10 are not sold). Handed out: 2 booklets + the site's = 30. Used: 3 + 2.
    assert passes == {
        "sold": (50, 50_000),
        "handed_out": (30, 30_000),
        "used": (5, 5_000),
        "expired": (0, 0),
    }
    assert overview["active"]["passes"] == 25
    # Two qualified sites (redemptions in September, the paid one); one paid.
    assert overview["sites"] == {"qualified": 2, "suspended": 0, "paid": 1}
    assert overview["paid_cents"] == data["statement"].total_cents == 2_000
    close = overview["last_close"]
    assert (close["label"], close["statements"], close["sites"], close["paid"]) == ("octobre 2026", 1, 1, 1)
    assert [(b["id"], b["status"], b["line_count"]) for b in overview["batches"]] == [(data["batch"].pk, "paid", 1)]
    ending = overview["ending"]
    assert [(p["name"], p["days_left"], p["active_passes"]) for p in ending] == [(data["ending"].programme.name, 20, 0)]
    months = {row["label"]: row for row in overview["by_month"]}
    assert len(overview["by_month"]) == 12
    assert overview["by_month"][0]["label"] == "décembre 2025" and overview["by_month"][-1]["label"] == "novembre 2026"
    assert (months["septembre 2026"]["hand_overs"], months["septembre 2026"]["redemptions"]) == (1, 3)
    assert (months["octobre 2026"]["hand_overs"], months["octobre 2026"]["redemptions"]) == (1, 2)
    assert months["octobre 2026"]["cents"] == 2_000
    html = response.content.decode()
    assert 'scope="col"' in html and 'scope="row"' in html and "<caption" in html
    # No personal data: no beneficiary's commune, age band or e-mail on the page.
    assert "@" not in re.sub(r"<header.*?</header>", "", html, flags=re.S).split("<main", 1)[1].split("</main>")[0]


def test_the_charts_draw_the_figures_of_the_tables(client, operator_user):
    build()
    client.force_login(operator_user)
    response = client.get(URL)
    html = response.content.decode()
    script = re.search(r'<script id="overview-charts" type="application/json">(.*?)</script>', html)
    charts = json.loads(script.group(1))
    overview = response.context["overview"]
    assert charts["passes"]["labels"] == [row["label"] for row in overview["passes"]]
    assert charts["passes"]["values"] == [row["passes"] for row in overview["passes"]]
    assert charts["months"]["labels"] == [row["label"] for row in overview["by_month"]]
    assert charts["months"]["hand_overs"] == [row["hand_overs"] for row in overview["by_month"]]
    assert charts["months"]["redemptions"] == [row["redemptions"] for row in overview["by_month"]]
    # The tables print the same numbers: each month's row reads « label | hand-overs | redemptions ».
    for label, handed, redeemed in zip(*charts["months"].values(), strict=True):
        assert re.search(rf'<th scope="row">{label}</th><td>{handed}</td><td>{redeemed}</td>', html), label
    for label, value in zip(charts["passes"]["labels"], charts["passes"]["values"], strict=True):
        assert f'<th scope="row">{label}</th><td>{value}</td>' in html.replace("&#x27;", "'"), label
    # Chart.js and the page's script are files (no inline script under the CSP).
    assert "vendor/chart.js/chart.umd.min.js" in html and "js/operator-overview.js" in html


def test_the_number_of_queries_does_not_grow_with_the_scheme(client, operator_user):
    build(booklets=2, redemptions=1)
    client.force_login(operator_user)
    client.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    build(booklets=6, redemptions=8)
    build(booklets=4, redemptions=5)
    Pass.objects.filter(state="created").update(state="expired")  # some passes expired, too
    with CaptureQueriesContext(connection) as full:
        response = client.get(URL)
    assert response.status_code == 200
    assert len(response.context["overview"]["batches"]) == 3
    assert len(full) == len(small), [q["sql"][:120] for q in full.captured_queries]
    assert len(full) <= 15

"""The operator's overview in a real browser: both charts drawn by Chart.js from the page's JSON
(no inline script under the CSP), and the page accessible (axe-core, reflow at 200 %)."""

import pytest

from tests.browser.a11y import assert_no_violations, audit_page

pytestmark = pytest.mark.browser


def test_the_overview_draws_its_charts_and_is_accessible(login_as, live_server):
    page = login_as("operateur")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server.url}/operateur/")
    assert page.locator("h1").inner_text() == "Vue d'ensemble du dispositif"
    for chart in ("overview-passes-chart", "overview-months-chart"):
        page.wait_for_function(f"() => window.Chart && Chart.getChart('{chart}') !== undefined")
        assert page.evaluate(f"() => Chart.getChart('{chart}').data.datasets[0].data.length") > 0
    assert errors == []
    assert_no_violations(audit_page(page, role="operateur"))

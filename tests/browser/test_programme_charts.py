"""The charts of a programme's report in Chromium, under the real CSP: Chart.js and the page's
script are files, the canvases are drawn from the JSON of the page, each stays next to its table,
and axe-core finds nothing on the page with its charts shown."""

import pytest
from playwright.sync_api import expect

from sponsors.models import Programme
from sponsors.reporting.charts import CHARTS
from tests.browser.a11y import assert_no_violations, axe_violations
from tests.browser.support import demo_user, log_in

pytestmark = pytest.mark.browser


def test_the_charts_are_drawn_beside_their_tables_and_the_page_stays_accessible(demo, new_context, live_server):
    user = demo_user(demo, "commanditaire")
    programme = Programme.objects.filter(sponsor__memberships__user=user).order_by("pk").first()
    context = new_context(bypass_csp=False)  # the real CSP: no inline script may run
    log_in(context, user, live_server.url)
    page = context.new_page()
    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    page.goto(f"/sponsor/programmes/{programme.pk}/")

    charts = page.evaluate("() => JSON.parse(document.getElementById('report-charts-data').textContent)")
    assert {chart["id"] for chart in charts} >= {"chart-passes"}  # the passes by state: always there
    assert {chart["id"] for chart in charts} <= {f"chart-{key}" for key, *_ in CHARTS}
    for chart in charts:
        canvas = page.locator(f"#{chart['id']}")
        expect(canvas).to_have_attribute("data-drawn", "true")
        expect(page.locator(f"#{chart['id']}-figure")).to_be_visible()
        # Something was painted: the canvas is not blank.
        painted = page.evaluate(
            """(id) => { const c = document.getElementById(id); const d = c.getContext('2d')
                 .getImageData(0, 0, c.width, c.height).data; return d.some((v) => v !== 0); }""",
            chart["id"],
        )
        assert painted, chart["id"]
        expect(page.locator(f"#{chart['table']}")).to_be_attached()  # the table with the same figures
    assert not blocked, blocked

    audit = new_context()  # axe-core is injected as a script: this context bypasses the CSP
    log_in(audit, user, live_server.url)
    audited = audit.new_page()
    audited.goto(f"/sponsor/programmes/{programme.pk}/")
    expect(audited.locator("#chart-passes")).to_have_attribute("data-drawn", "true")
    assert_no_violations(axe_violations(audited, label="programme", role="commanditaire"))

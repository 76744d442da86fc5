"""On a phone (390 × 844), menus wait behind a button and the scan page fits in one screen.

A site member's pages used to open on four rows of main menu and five of site menu. Both menus
now fold behind a « Menu » button (static/js/disclosure.js) that works by keyboard and says
whether it is open (aria-expanded) to a screen reader; on the scan page, the place and the
service, the code field, the camera button and the last result are all within the first screen.
"""

import shutil

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.support import log_in
from tests.mediators.factories import redeemable_booklet, redeeming_site

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def place(live_server):
    return redeeming_site()


def inside_first_screen(locator):
    box = locator.bounding_box()
    assert box is not None, f"{locator} n'est pas affiché"
    return box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_menus_fold_behind_a_button_that_works_by_keyboard(new_context, place, live_server):
    context = new_context(viewport=PHONE)
    log_in(context, place.user, live_server.url)
    page = context.new_page()
    page.goto("/site/")

    for button_name, menu, link in [
        ("Menu", page.get_by_role("navigation", name="Menu principal"), "Mon organisation"),
        ("Menu de la structure", page.get_by_role("navigation", name="Espace de la structure"), "Relevés"),
    ]:
        button = page.get_by_role("button", name=button_name, exact=True)
        expect(button).to_be_visible()
        expect(button).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_role("link", name=link, exact=True)).to_be_hidden()

        button.focus()
        page.keyboard.press("Enter")
        expect(button).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_role("link", name=link, exact=True)).to_be_visible()
        # Tab goes into the menu; Escape folds it and gives the focus back to its button.
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.closest('.collapsible') !== null")
        page.keyboard.press("Escape")
        expect(button).to_have_attribute("aria-expanded", "false")
        expect(button).to_be_focused()
        page.keyboard.press("Space")
        expect(button).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Space")
        expect(button).to_have_attribute("aria-expanded", "false")
        del menu

    # The page starts with its own content: the heading is in the upper part of the first screen.
    assert page.get_by_role("heading", level=1).bounding_box()["y"] < PHONE["height"] / 4


def test_on_a_desktop_the_menus_are_open_without_a_button(new_context, place, live_server):
    context = new_context(viewport={"width": 1280, "height": 900})
    log_in(context, place.user, live_server.url)
    page = context.new_page()
    page.goto("/site/")
    expect(page.get_by_role("button", name="Menu", exact=True)).to_be_hidden()
    expect(page.get_by_role("link", name="Mon organisation", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Relevés", exact=True)).to_be_visible()


def test_the_scan_page_fits_in_one_phone_screen_after_a_scan(playwright_driver, place, live_server):
    booklet = redeemable_booklet()
    code = booklet.passes.order_by("position").first().code
    # A phone with a camera (Chromium's fake one), so that the camera button shows.
    browser = playwright_driver.chromium.launch(
        executable_path=shutil.which("chromium"),
        headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
    )
    try:
        context = browser.new_context(base_url=live_server.url, viewport=PHONE, has_touch=True, is_mobile=True)
        log_in(context, place.user, live_server.url)
        page = context.new_page()
        page.goto("/site/scan/")
        expect(page.locator("html[data-scan-ready]")).to_be_attached()
        page.get_by_label("Code du pass").fill(code)
        page.get_by_role("button", name="Encaisser").click()
        result = page.locator("#scan-status .scan-result-success")
        expect(result).to_contain_text("Pass encaissé")
        page.evaluate("() => window.scrollTo(0, 0)")

        for element in [
            page.get_by_label("Lieu"),
            page.get_by_label("Service rendu"),
            page.get_by_label("Code du pass"),
            page.get_by_role("button", name="Scanner avec la caméra"),
            result,
        ]:
            expect(element).to_be_visible()
            assert inside_first_screen(element), f"{element} est hors du premier écran"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        browser.close()

"""The finder's map in Chromium, with the demo's places: markers on /trouver/ under the real CSP
(tiles from the configured tile server, answered here by the test), the list still there, a
marker opened and closed by keyboard, no horizontal scrolling at 640 px; without JavaScript,
the list alone."""

import base64
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.a11y import REFLOW_VIEWPORT

pytestmark = pytest.mark.browser

# A 1×1 PNG: the tile server is not reached from the tests, the test answers in its place.
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def test_map_shows_the_places_of_the_list(demo, new_context):
    assert settings.MAP_TILE_SOURCE, "la carte a besoin d'un serveur de tuiles (PASSNUM_MAP_TILE_URL)"
    context = new_context(bypass_csp=False)  # the real CSP: the tiles' host must be allowed
    tiles = []

    def serve_tile(route):
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=TILE_PNG)

    context.route(settings.MAP_TILE_SOURCE + "/**", serve_tile)
    page = context.new_page()
    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    page.goto("/trouver/")

    section = page.locator("#finder-map-section")
    expect(section).to_be_visible()
    expected = page.evaluate("() => JSON.parse(document.getElementById('finder-map-data').textContent).points.length")
    assert expected >= 10  # a dozen qualified sites in the demo
    markers = page.locator("#finder-map .leaflet-marker-icon")
    expect(markers).to_have_count(expected)
    expect(section).to_have_attribute("data-markers", str(expected))
    expect(page.locator("#finder-map .leaflet-tile-loaded").first).to_be_attached()
    assert tiles and not blocked, blocked

    # The list is still the page's content, after the map and reachable by its skip link.
    cards = page.locator(".place-card")
    expect(cards.first).to_be_visible()
    assert cards.count() == min(expected, 20)
    expect(page.locator("#results-title")).to_contain_text("trouvé")
    page.get_by_role("link", name="Passer la carte et aller à la liste").click()
    expect(page.locator("#results-title")).to_be_focused()

    # A marker is a button with the place's name; Enter opens its bubble, whose link gets the
    # focus; Escape closes it and gives the focus back to the marker.
    first = markers.first
    name = first.get_attribute("alt")
    assert name and first.get_attribute("role") == "button"
    first.focus()
    page.keyboard.press("Enter")
    popup = page.locator("#finder-map .leaflet-popup")
    expect(popup).to_be_visible()
    expect(popup.locator(".finder-map-popup-title a")).to_be_focused()
    expect(popup.locator(".finder-map-popup-title a")).to_have_attribute("href", re.compile(r"^/trouver/lieux/\d+/$"))
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(first).to_be_focused()

    # 200 % zoom: no horizontal scrolling.
    page.set_viewport_size(REFLOW_VIEWPORT)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    expect(section).to_be_visible()

    # Without JavaScript, the list alone: the map's section stays hidden.
    no_script = new_context(java_script_enabled=False).new_page()
    no_script.goto("/trouver/")
    expect(no_script.locator("#finder-map-section")).to_be_hidden()
    assert no_script.locator(".place-card").count() == min(expected, 20)

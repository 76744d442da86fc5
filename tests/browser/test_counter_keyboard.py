"""The prescriber's counter by keyboard only, in Chromium: the serial typed as a scanner does
(characters then Enter), the defaults accepted with one Enter, the booklet active."""

import pytest
from playwright.sync_api import expect

from passnum.passes.models import Booklet, PassState

pytestmark = pytest.mark.browser


def test_hand_over_by_keyboard_only(demo, login_as):
    serial = demo["booklets_in_stock"][0]["serial"]
    assert demo["booklets_in_stock"][0]["prescriber_email"] == "prescripteur@demo.passnum.fr"
    page = login_as("prescripteur")
    page.goto("/counter/remettre/")
    serial_input = page.get_by_label("Numéro du carnet")
    expect(serial_input).to_be_focused()

    page.keyboard.type(serial.lower())  # a USB scanner types the characters…
    page.keyboard.press("Enter")  # …then Enter
    expect(page.locator("h2").first).to_have_text(f"Carnet {serial}")
    # First hand-over of the session: no audience to remember, the focus is on the first one
    # ("Seniors"): Space ticks it, Enter confirms — two keystrokes after the scan.
    expect(page.get_by_label("Seniors")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")

    expect(page.locator(".message-success")).to_contain_text(f"Carnet {serial} remis")
    expect(page.get_by_label("Numéro du carnet")).to_be_focused()
    booklet = Booklet.objects.get(serial=serial)
    assert booklet.state == Booklet.State.HANDED_OUT
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.ACTIVE}

    # The next person: the counter remembers the last values, one Enter confirms.
    following = demo["booklets_in_stock"][1]["serial"]
    page.keyboard.type(following)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Confirmer la remise")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".message-success")).to_contain_text(f"Carnet {following} remis")
    assert Booklet.objects.get(serial=following).state == Booklet.State.HANDED_OUT

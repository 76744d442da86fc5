"""In Chromium: returning unused booklets to the operator from the counter (form, confirmation by
keyboard, message), and the hand-over form of a programme that requires the beneficiary's name.
The pages reached by POST are checked with axe-core and the reflow check here (the walk of
``test_accessibility`` only follows GET routes)."""

import pytest
from playwright.sync_api import expect

from passnum.passes.models import Booklet
from sponsors.models import Programme
from tests.browser.a11y import REFLOW_VIEWPORT, audit_page, format_violations

pytestmark = pytest.mark.browser


def _assert_accessible(page, label):
    page.set_viewport_size(REFLOW_VIEWPORT)
    violations = audit_page(page, role="prescripteur", label=label)
    assert not violations, format_violations(violations)


def test_return_booklets_with_a_confirmation(demo, login_as):
    serials = [
        entry["serial"] for entry in demo["booklets_in_stock"] if entry["prescriber_email"].startswith("prescripteur@")
    ]
    serial = serials[-1]
    page = login_as("prescripteur")
    page.goto("/counter/rendre/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rendre des carnets à l'opérateur")

    # A typo first: the refusal is tied to the field, nothing is returned.
    page.get_by_label("Ou bien : les numéros des carnets").fill("ZZZ000001")
    page.get_by_role("button", name="Vérifier les carnets à rendre").click()
    expect(page.locator(".field-errors")).to_contain_text("Aucun carnet ne porte le numéro ZZZ000001")
    _assert_accessible(page, "/counter/rendre/ (erreur)")

    page.get_by_label("Ou bien : les numéros des carnets").fill(serial)
    page.get_by_role("button", name="Vérifier les carnets à rendre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer le retour de 1 carnet")
    _assert_accessible(page, "/counter/rendre/ (confirmation)")
    confirm = page.get_by_role("button", name="Oui, rendre 1 carnet")
    expect(confirm).to_be_focused()
    assert Booklet.objects.get(serial=serial).state == Booklet.State.ALLOCATED
    page.keyboard.press("Enter")

    expect(page.locator(".message-success")).to_contain_text(f"1 carnet(s) rendu(s) à l'opérateur : {serial}")
    booklet = Booklet.objects.get(serial=serial)
    assert booklet.state == Booklet.State.CREATED and booklet.holder is None


def test_hand_over_form_with_the_name_required(demo, login_as):
    serial = demo["booklets_in_stock"][0]["serial"]
    Programme.objects.filter(booklets__serial=serial).update(requires_beneficiary_name=True)
    page = login_as("prescripteur")
    page.goto(f"/counter/remettre/?serial={serial}")
    name = page.get_by_label("Nom et prénom de la personne")
    expect(name).to_be_focused()
    page.keyboard.press("Enter")  # nothing typed: refused, tied to the field
    expect(page.locator(".field-errors").first).to_contain_text("demande le nom")
    _assert_accessible(page, "/counter/remettre/ (nom demandé)")

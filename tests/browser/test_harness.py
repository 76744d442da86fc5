"""The checks of the browser suite catch what they claim to catch: deliberately broken pages,
served at the live server's address, go through the same functions as the walk of every page."""

from urllib.parse import urlsplit

import pytest

from tests.browser.a11y import assert_no_violations, audit_page, keyboard_problems

pytestmark = pytest.mark.browser

PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw=="

PAGES = {
    # An image without alternative text, a field without label, a line too wide for 200 % zoom.
    "/__harness__/inaccessible/": f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Page inaccessible</title></head>
<body><main>
  <h1>Page volontairement inaccessible</h1>
  <img src="{PIXEL}">
  <form><input type="text" name="nom"></form>
  <p style="width: 1500px">Une ligne bien plus large que la fenêtre.</p>
</main></body></html>""",
    # The control: the same content, accessible.
    "/__harness__/accessible/": f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Page accessible</title></head>
<body><a href="#contenu">Aller au contenu</a>
<main id="contenu" tabindex="-1">
  <h1>Page accessible</h1>
  <img src="{PIXEL}" alt="Logo du Pass numérique">
  <form><label for="nom">Nom</label> <input id="nom" type="text" name="nom">
    <button type="submit">Envoyer</button></form>
  <p>Une ligne qui se replie dans la fenêtre.</p>
</main></body></html>""",
    # A field that keeps the focus: Tab never gets to the button after it.
    "/__harness__/piege/": """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Piège au clavier</title></head>
<body><a href="#contenu">Aller au contenu</a>
<main id="contenu" tabindex="-1">
  <h1>Piège au clavier</h1>
  <label for="piege">Champ piège</label> <input id="piege" type="text">
  <button type="button">Bouton jamais atteint</button>
</main>
<script>
  document.getElementById("piege").addEventListener("keydown", (event) => {
    if (event.key === "Tab") event.preventDefault();
  });
</script>
</body></html>""",
    # A button whose focus is invisible.
    "/__harness__/focus-invisible/": """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Focus invisible</title>
<style>button:focus, button:focus-visible { outline: none; box-shadow: none; }</style></head>
<body><a href="#contenu">Aller au contenu</a>
<main id="contenu" tabindex="-1"><h1>Focus invisible</h1><button type="button">Bouton sans focus visible</button></main>
</body></html>""",
}


@pytest.fixture
def harness_page(page, live_server):
    """A page on which ``/__harness__/…`` URLs of the live server answer the pages above."""

    def fulfil(route):
        body = PAGES.get(urlsplit(route.request.url).path)
        if body is None:
            route.fulfill(status=404, content_type="text/plain", body="page de test inconnue")
        else:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

    page.route(f"{live_server.url}/__harness__/**", fulfil)
    return page


def test_audit_finds_the_violations_of_an_inaccessible_page(harness_page):
    harness_page.goto("/__harness__/inaccessible/")

    violations = audit_page(harness_page, role="test")

    rules = {violation.rule for violation in violations}
    assert {"image-alt", "label", "reflow"} <= rules, rules
    with pytest.raises(AssertionError) as failure:
        assert_no_violations(violations)
    message = str(failure.value)
    assert "image-alt" in message and "label" in message and "/__harness__/inaccessible/" in message
    assert "img" in message  # the element at fault is named


def test_audit_passes_an_accessible_page(harness_page):
    harness_page.goto("/__harness__/accessible/")

    assert audit_page(harness_page, role="test") == []


def test_keyboard_check_finds_a_trap(harness_page):
    problems = "\n".join(keyboard_problems(harness_page, "/__harness__/piege/"))

    assert "piège au clavier" in problems
    assert "jamais atteint par la tabulation" in problems and "Bouton jamais atteint" in problems


def test_keyboard_check_finds_an_invisible_focus(harness_page):
    problems = "\n".join(keyboard_problems(harness_page, "/__harness__/focus-invisible/"))

    assert "focus invisible" in problems and "Bouton sans focus visible" in problems
    assert "piège" not in problems


def test_keyboard_check_wants_the_skip_link_first(harness_page):
    problems = "\n".join(keyboard_problems(harness_page, "/__harness__/inaccessible/"))

    assert "Aller au contenu" in problems


def test_keyboard_check_passes_an_accessible_page(harness_page):
    assert keyboard_problems(harness_page, "/__harness__/accessible/") == []

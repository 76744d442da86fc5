"""The checks of the browser suite catch what they claim to catch: deliberately broken pages go
through the same functions as the walk of every page.

The pages are served by ``page.route`` on an origin of their own, with the project's static
files (axe-core is loaded from there, as on the live server): no database, no server needed.
"""

from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.browser import test_accessibility
from tests.browser.a11y import assert_no_violations, audit_page, keyboard_problems
from tests.browser.support import ROOT

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
    <fieldset><legend>Rôle</legend>
      <input type="radio" id="membre" name="role" value="membre" checked> <label for="membre">Membre</label>
      <input type="radio" id="admin" name="role" value="admin"> <label for="admin">Administrateur</label>
    </fieldset>
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


# The same markup with other words.
PAGES["/__harness__/inaccessible-autres-mots/"] = PAGES["/__harness__/inaccessible/"].replace(
    "Une ligne bien plus large que la fenêtre.", "D'autres mots, sur une ligne tout aussi large."
)

HARNESS_ORIGIN = "http://harness.passnum.test"


def serve(route):
    path = urlsplit(route.request.url).path
    if path in PAGES:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGES[path])
    elif path.startswith(settings.STATIC_URL) and (ROOT / "static" / path.removeprefix(settings.STATIC_URL)).is_file():
        route.fulfill(path=ROOT / "static" / path.removeprefix(settings.STATIC_URL))
    else:
        route.fulfill(status=404, content_type="text/plain", body="page de test inconnue")


@pytest.fixture
def harness_page(make_context):
    """A page on which ``HARNESS_ORIGIN/__harness__/…`` answers the pages above."""
    context = make_context(base_url=HARNESS_ORIGIN)
    context.route(f"{HARNESS_ORIGIN}/**", serve)
    return context.new_page()


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


def test_a_walk_runs_axe_once_per_markup(harness_page):
    axe_results = {}
    harness_page.goto("/__harness__/inaccessible/")
    first = audit_page(harness_page, role="un", axe_results=axe_results)
    harness_page.goto("/__harness__/inaccessible-autres-mots/")
    second = audit_page(harness_page, role="deux", axe_results=axe_results)

    assert len(axe_results) == 1
    assert [v.rule for v in second] == [v.rule for v in first]
    assert {v.role for v in second} == {"deux"} and "autres-mots" in second[0].page

    harness_page.goto("/__harness__/accessible/")
    assert audit_page(harness_page, role="un", axe_results=axe_results) == []
    assert len(axe_results) == 2


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


def test_walk_wants_a_sample_for_every_public_route(monkeypatch):
    _, _, public, problems = test_accessibility.project_pages()
    assert "organisations:invitation" in [name for name, _ in public]
    assert not any("organisations:invitation" in problem for problem in problems)

    monkeypatch.setattr(test_accessibility, "PUBLIC_SAMPLES", {})

    _, _, public, problems = test_accessibility.project_pages()
    assert public == []
    assert any("organisations:invitation" in problem and "PUBLIC_SAMPLES" in problem for problem in problems)

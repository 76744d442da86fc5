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

# Pale text: axe-core leaves a lone dash alone (no words to read) but not real words.
PALE_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Texte pâle</title></head>
<body><main><h1>Texte pâle</h1><p style="color: #bbb">{words}</p></main></body></html>"""
PAGES["/__harness__/tiret-pale/"] = PALE_PAGE.format(words="—")
PAGES["/__harness__/mots-pales/"] = PALE_PAGE.format(words="Des mots trop pâles pour être lus")
# Pale text on a phone only (a media query): only the check at phone width sees it.
PAGES["/__harness__/telephone/"] = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Téléphone</title>
<style>@media (max-width: 600px) { .note { color: #bbb; } }</style></head>
<body><main><h1>Téléphone</h1><p class="note">Un texte trop pâle sur un téléphone.</p></main></body></html>"""

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


def test_a_walk_runs_axe_once_per_page_content_and_width(harness_page):
    axe_results = {}
    harness_page.goto("/__harness__/inaccessible/")
    first = audit_page(harness_page, role="un", axe_results=axe_results)
    assert len(axe_results) == 2  # desktop and phone

    # The same page seen by another role: the result is shared.
    harness_page.goto("/__harness__/inaccessible/")
    second = audit_page(harness_page, role="deux", axe_results=axe_results)
    assert len(axe_results) == 2
    assert [v.rule for v in second] == [v.rule for v in first]
    assert {v.role for v in second} == {"deux"}

    # The same markup with other words is checked again.
    harness_page.goto("/__harness__/inaccessible-autres-mots/")
    third = audit_page(harness_page, role="deux", axe_results=axe_results)
    assert len(axe_results) == 4
    assert "autres-mots" in third[0].page

    harness_page.goto("/__harness__/accessible/")
    assert audit_page(harness_page, role="un", axe_results=axe_results) == []
    assert len(axe_results) == 6


def test_the_words_alone_can_make_a_violation(harness_page):
    # Same markup, only the words differ: a result kept for the first page must not hide the
    # defect of the second.
    axe_results = {}
    harness_page.goto("/__harness__/tiret-pale/")
    assert audit_page(harness_page, role="un", axe_results=axe_results) == []

    harness_page.goto("/__harness__/mots-pales/")
    violations = audit_page(harness_page, role="un", axe_results=axe_results)

    assert "color-contrast" in {v.rule for v in violations}, violations


def test_audit_runs_axe_at_phone_width(harness_page):
    harness_page.goto("/__harness__/telephone/")

    violations = audit_page(harness_page, role="test")

    assert [(v.rule, v.width) for v in violations] == [("color-contrast", 390)], violations
    assert "à 390 px" in str(violations[0])


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

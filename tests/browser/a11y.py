"""The accessibility checks of the browser tests, shared by the walk of every page and by the
tests of the harness itself.

- ``audit_page(page)``: axe-core (WCAG 2.1 A and AA rules) injected into the page, plus reflow at
  200 % zoom (a 640 px wide viewport, i.e. 1280 px at 200 %, must not scroll horizontally);
  returns a list of ``Violation``.
- ``keyboard_problems(page, url)``: Tab through the page: every visible focusable element is
  reached, each shows a visible focus indicator, focus gets past the last element (no trap),
  the first Tab lands on the skip link and activating it moves focus to ``main#contenu``;
  returns a list of problems (strings).
- ``assert_no_violations(violations)``: one assertion listing them all.
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
AXE_FILES = (ROOT / "static" / "vendor" / "axe.min.js", ROOT / "node_modules" / "axe-core" / "axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# 1280 CSS pixels at 200 % zoom: WCAG 1.4.10 (reflow) asks for no horizontal scrolling.
REFLOW_VIEWPORT = {"width": 640, "height": 900}

FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])'
SKIP_LINK_TEXT = "Aller au contenu"
MAIN_SELECTOR = "main#contenu"


@dataclass(frozen=True)
class Violation:
    page: str
    role: str
    rule: str
    impact: str
    targets: tuple = field(default_factory=tuple)
    help: str = ""

    def __str__(self):
        targets = " | ".join(self.targets) or "—"
        return f"[{self.role}] {self.page} — {self.rule} ({self.impact}) : {self.help}\n      éléments : {targets}"


def format_violations(violations):
    pages = {(v.role, v.page) for v in violations}
    lines = [f"{len(violations)} violation(s) d'accessibilité sur {len(pages)} page(s) :"]
    lines += [f"  - {violation}" for violation in violations]
    return "\n".join(lines)


def assert_no_violations(violations):
    assert not violations, format_violations(violations)


@cache
def axe_source():
    for path in AXE_FILES:
        if path.exists():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(
        "axe-core est introuvable : lancez `npm ci` puis `python scripts/build_static.py` (ou `make install`)."
    )


# Runs axe on the whole document; returns only what the report needs.
AXE_RUN = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact || "",
    help: v.help,
    targets: v.nodes.map((node) => node.target.map((t) => Array.isArray(t) ? t.join(" >>> ") : t).join(" ")),
  }));
}
"""

# A short, readable CSS path of an element, for the reports.
DESCRIBE = """
(el) => {
  const parts = [];
  while (el && el.nodeType === 1 && parts.length < 4) {
    let part = el.tagName.toLowerCase();
    if (el.id) { parts.unshift(part + "#" + el.id); break; }
    if (el.classList.length) part += "." + [...el.classList].join(".");
    const text = (el.getAttribute("aria-label") || el.textContent || el.value || el.name || "").trim();
    if (parts.length === 0 && text) part += ` « ${text.replace(/\\s+/g, " ").slice(0, 40)} »`;
    parts.unshift(part);
    el = el.parentElement;
  }
  return parts.join(" > ");
}
"""

# Null when the page fits; otherwise the elements where the overflow starts (they overflow,
# their parent does not).
REFLOW_CHECK = f"""
() => {{
  const describe = {DESCRIBE};
  const width = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth <= width + 1) return null;
  const overflows = (el) => {{
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1;
  }};
  const culprits = [...document.body.querySelectorAll("*")]
    .filter((el) => overflows(el) && !(el.parentElement && el.parentElement !== document.body && overflows(el.parentElement)))
    .slice(0, 5)
    .map(describe);
  return {{scrollWidth, width, culprits}};
}}
"""


def axe_violations(page, *, label, role):
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    return [
        Violation(page=label, role=role, rule=v["id"], impact=v["impact"], targets=tuple(v["targets"]), help=v["help"])
        for v in page.evaluate(AXE_RUN, AXE_TAGS)
    ]


def reflow_violations(page, *, label, role):
    original = page.viewport_size
    page.set_viewport_size(REFLOW_VIEWPORT)
    try:
        overflow = page.evaluate(REFLOW_CHECK)
    finally:
        page.set_viewport_size(original)
    if overflow is None:
        return []
    return [
        Violation(
            page=label,
            role=role,
            rule="reflow",
            impact="serious",
            targets=tuple(overflow["culprits"]),
            help=(
                f"défilement horizontal à 200 % de zoom (WCAG 1.4.10) : {overflow['scrollWidth']} px "
                f"de contenu pour {overflow['width']} px de fenêtre"
            ),
        )
    ]


def audit_page(page, *, role="anonyme", label=None):
    """Every accessibility violation of the page currently loaded (axe-core WCAG 2.1 A/AA + reflow)."""
    label = label or page.url
    return axe_violations(page, label=label, role=role) + reflow_violations(page, label=label, role=role)


# The visible focusable elements, kept in the page for the Tab walk.
COLLECT_FOCUSABLES = """
(selector) => {
  const visible = (el) => {
    if (el.disabled || el.closest("[inert]")) return false;
    if (el.checkVisibility && !el.checkVisibility({checkVisibilityCSS: true})) return false;
    return el.getClientRects().length > 0;
  };
  window.__passnumFocusables = [...document.querySelectorAll(selector)].filter(visible);
  return window.__passnumFocusables.length;
}
"""

FOCUS_STATE = f"""
() => {{
  const describe = {DESCRIBE};
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return {{onBody: true}};
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = Boolean(style.boxShadow) && style.boxShadow !== "none";
  return {{
    onBody: false,
    index: (window.__passnumFocusables || []).indexOf(el),
    description: describe(el),
    text: (el.textContent || "").trim(),
    href: el.getAttribute("href"),
    indicator: outline || shadow,
  }};
}}
"""

DESCRIBE_UNREACHED = f"""
(indexes) => {{
  const describe = {DESCRIBE};
  return indexes.map((i) => describe(window.__passnumFocusables[i]));
}}
"""


def keyboard_problems(page, url):
    """Loads ``url`` and walks it with the Tab key; returns the problems found (empty: all good)."""
    page.goto(url)
    count = page.evaluate(COLLECT_FOCUSABLES, FOCUSABLE)
    problems = []
    reached = set()
    previous = None
    got_past_the_end = False
    for press in range(count + 5):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if press == 0 and (state["onBody"] or state["text"] != SKIP_LINK_TEXT):
            problems.append(
                f"la première tabulation doit atteindre le lien « {SKIP_LINK_TEXT} », "
                f"elle atteint : {state.get('description', 'rien')}"
            )
        if state["onBody"]:
            got_past_the_end = True
            break
        if state["index"] in reached and state["index"] < max(reached):
            got_past_the_end = True  # wrapped around to the start of the page
            break
        if previous is not None and state["index"] == previous and state["index"] >= 0:
            problems.append(f"piège au clavier : la tabulation ne quitte pas {state['description']}")
            break
        previous = state["index"]
        if state["index"] >= 0:
            reached.add(state["index"])
        if not state["indicator"]:
            problems.append(f"focus invisible (ni outline ni box-shadow) sur {state['description']}")
    if not got_past_the_end and not any(problem.startswith("piège") for problem in problems):
        problems.append(
            f"piège au clavier : après {count + 5} tabulations pour {count} éléments, "
            f"le focus n'a pas dépassé le dernier élément (il est sur {state.get('description')})"
        )
    unreached = sorted(set(range(count)) - reached)
    if unreached:
        for description in page.evaluate(DESCRIBE_UNREACHED, unreached):
            problems.append(f"élément focalisable jamais atteint par la tabulation : {description}")
    problems += skip_link_problems(page, url)
    return [f"{url} : {problem}" for problem in problems]


def skip_link_problems(page, url):
    """The first Tab reaches the skip link; activating it moves focus to the main content."""
    page.goto(url)
    page.keyboard.press("Tab")
    state = page.evaluate(FOCUS_STATE)
    if state["onBody"] or state["text"] != SKIP_LINK_TEXT:
        return []  # already reported by the Tab walk
    page.keyboard.press("Enter")
    try:
        page.wait_for_function(
            f"() => document.activeElement && document.activeElement.matches({MAIN_SELECTOR!r})", timeout=2_000
        )
    except PlaywrightTimeoutError:
        focused = page.evaluate(f"() => ({DESCRIBE})(document.activeElement)")
        return [f"le lien « {SKIP_LINK_TEXT} » ne déplace pas le focus sur {MAIN_SELECTOR} (focus sur {focused})"]
    return []

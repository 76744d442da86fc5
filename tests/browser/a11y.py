"""The accessibility checks of the browser tests, shared by the walk of every page and by the
tests of the harness itself.

- ``audit_page(page)``: axe-core (WCAG 2.1 A and AA rules) injected into the page and run at
  desktop (1280 px) and phone (390 px) widths, plus reflow at 200 % zoom (a 640 px wide
  viewport, i.e. 1280 px at 200 %, must not scroll horizontally);
  returns a list of ``Violation``.
- ``keyboard_problems(page, url)``: Tab through the page: every visible focusable element is
  reached, each shows a visible focus indicator, focus gets past the last element (no trap),
  the first Tab lands on the skip link and activating it moves focus to ``main#contenu``;
  returns a list of problems (strings).
- ``assert_no_violations(violations)``: one assertion listing them all.
"""

from dataclasses import dataclass, field, replace
from functools import cache

from django.conf import settings
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.support import ROOT

AXE_FILES = (ROOT / "static" / "vendor" / "axe.min.js", ROOT / "node_modules" / "axe-core" / "axe.min.js")
AXE_URL = f"{settings.STATIC_URL}vendor/axe.min.js"  # copied there by scripts/build_static.py
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

DESKTOP_VIEWPORT = {"width": 1280, "height": 900}
# A phone held upright: the layout changes (menus, tables), so axe-core runs at this width too.
PHONE_VIEWPORT = {"width": 390, "height": 844}
AXE_VIEWPORTS = (DESKTOP_VIEWPORT, PHONE_VIEWPORT)
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
    width: int | None = None  # the viewport width axe-core ran at (None: the reflow check)

    def __str__(self):
        targets = " | ".join(self.targets) or "—"
        width = f" à {self.width} px" if self.width else ""
        return (
            f"[{self.role}] {self.page}{width} — {self.rule} ({self.impact}) : {self.help}\n      éléments : {targets}"
        )


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
    .filter((el) => overflows(el)
      && !(el.parentElement && el.parentElement !== document.body && overflows(el.parentElement)))
    .slice(0, 5)
    .map(describe);
  return {{scrollWidth, width, culprits}};
}}
"""


def inject_axe(page):
    """Loads axe-core into the page: from the static files when served (the browser caches its
    compiled code across pages), else from the file itself."""
    if page.evaluate("() => typeof window.axe !== 'undefined'"):
        return
    try:
        page.add_script_tag(url=AXE_URL)
    except PlaywrightError:
        page.add_script_tag(content=axe_source())


def _set_viewport(page, size):
    if page.viewport_size != size:
        page.set_viewport_size(size)


def axe_violations(page, *, label, role, viewport=DESKTOP_VIEWPORT):
    """axe-core on the page at the width of ``viewport`` (the viewport is then put back as it was)."""
    original = page.viewport_size
    try:
        return _axe_at(page, viewport, label=label, role=role)
    finally:
        _set_viewport(page, original)


def _axe_at(page, viewport, *, label, role):
    """axe-core at the width of ``viewport``, which the page keeps afterwards."""
    _set_viewport(page, viewport)
    inject_axe(page)
    results = page.evaluate(AXE_RUN, AXE_TAGS)
    return [
        Violation(
            page=label,
            role=role,
            rule=v["id"],
            impact=v["impact"],
            targets=tuple(v["targets"]),
            help=v["help"],
            width=viewport["width"],
        )
        for v in results
    ]


def reflow_violations(page, *, label, role):
    """No horizontal scrolling at the reflow width (the viewport is then put back as it was: a walk
    of many pages saves time by keeping its page at ``REFLOW_VIEWPORT``)."""
    original = page.viewport_size
    _set_viewport(page, REFLOW_VIEWPORT)
    try:
        overflow = page.evaluate(REFLOW_CHECK)
    finally:
        _set_viewport(page, original)
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


# The page as axe-core sees it: tags, attributes and the visible words, so that two pages share an
# axe-core result only when they show the same thing the same way (the text decides contrast,
# names of links and buttons, languages…). Only what changes from one object to another without
# changing what axe-core checks is reduced to "empty or not": URLs, form tokens, data attributes.
# The walk runs axe-core once per fingerprint and width (the same page seen by several roles).
MARKUP_FINGERPRINT = """
() => {
  const urls = ["href", "src", "srcset", "action", "formaction", "nonce", "integrity"];
  const reduced = (attribute) => (urls.includes(attribute.name) && !attribute.value.startsWith("#"))
    || attribute.name.startsWith("data-");
  const parts = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        const words = child.data.replace(/\\s+/g, " ").trim();
        if (words) parts.push(words);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const token = child.tagName === "INPUT" && child.name === "csrfmiddlewaretoken";
        const attributes = [...child.attributes]
          .map((a) => reduced(a) || (token && a.name === "value")
            ? `${a.name}${a.value.trim() ? "+" : "-"}`
            : `${a.name}=${JSON.stringify(a.value)}`)
          .sort();
        parts.push(`<${child.tagName} ${attributes.join(" ")}>`);
        walk(child);
        parts.push("</>");
      }
    }
  };
  walk(document.documentElement);
  // Two 53-bit hashes (cyrb53) of the markup: only they cross over to Python.
  const text = parts.join("");
  const hash = (seed) => {
    let h1 = 0xdeadbeef ^ seed, h2 = 0x41c6ce57 ^ seed;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
  };
  return `${text.length}:${hash(1)}:${hash(2)}`;
}
"""


def markup_fingerprint(page):
    return page.evaluate(MARKUP_FINGERPRINT)


def audit_page(page, *, role="anonyme", label=None, axe_results=None):
    """Every accessibility violation of the page currently loaded: axe-core (WCAG 2.1 A/AA) at
    desktop and phone widths, plus reflow at 200 % zoom.

    ``axe_results`` (a dict kept by the caller) lets a walk of many pages run axe-core once per
    page content and width: a page showing the same markup and the same words as one already
    checked (the same page seen by another role) gets the same violations.
    """
    label = label or page.url
    violations = reflow_violations(page, label=label, role=role)
    fingerprint = None if axe_results is None else markup_fingerprint(page)
    original = page.viewport_size
    try:
        # Each width once, the viewport put back at the end only: every resize lays the page out.
        for viewport in AXE_VIEWPORTS:
            if fingerprint is None:
                violations += _axe_at(page, viewport, label=label, role=role)
                continue
            key = (fingerprint, viewport["width"])
            if key not in axe_results:
                axe_results[key] = _axe_at(page, viewport, label=label, role=role)
            violations += [replace(v, page=label, role=role) for v in axe_results[key]]
    finally:
        _set_viewport(page, original)
    return violations


# The visible focusable elements, kept in the page for the Tab walk. Elements taken out of the
# Tab order on purpose (tabindex="-1") are left out; a group of radio buttons is one Tab stop.
COLLECT_FOCUSABLES = """
(selector) => {
  const visible = (el) => {
    if (el.disabled || el.closest("[inert]") || el.getAttribute("tabindex") === "-1") return false;
    if (el.checkVisibility && !el.checkVisibility({checkVisibilityCSS: true})) return false;
    return el.getClientRects().length > 0;
  };
  const radioGroups = new Set();
  window.__passnumFocusables = [...document.querySelectorAll(selector)].filter(visible).filter((el) => {
    if (el.type !== "radio" || !el.name) return true;
    const group = (el.form ? el.form.id || [...document.forms].indexOf(el.form) : "") + "/" + el.name;
    if (radioGroups.has(group)) return false;
    radioGroups.add(group);
    return true;
  });
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
  const focusables = window.__passnumFocusables || [];
  let index = focusables.indexOf(el);
  if (index < 0 && el.type === "radio") {{
    index = focusables.findIndex((other) => other.type === "radio" && other.name === el.name && other.form === el.form);
  }}
  return {{
    onBody: false,
    index,
    description: describe(el),
    text: (el.textContent || "").trim(),
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

"""The walk of many pages shared by the accessibility tests: each page reached is checked once
per role (``a11y.audit_page``), every violation and problem is kept for one final report."""

import threading
from urllib.parse import parse_qsl, urlencode, urlsplit

from playwright.sync_api import Error as PlaywrightError

from tests.browser.a11y import audit_page, format_violations
from tests.browser.support import ARTIFACTS

# The API is not HTML; the walk of the project's pages leaves the operator's console to its own.
API_PREFIX = "/api/"


class Walk:
    """Visits pages for one role after another and collects every violation."""

    def __init__(self, *, excluded_prefixes=(API_PREFIX,)):
        self.excluded_prefixes = tuple(excluded_prefixes)
        self.violations = []
        self.problems = []
        self.checked = 0
        self.keys = set()  # the pages checked: paths (or error pages), every role together
        self.axe_results = {}  # axe-core runs once per page content and width (see a11y.audit_page)
        self._lock = threading.Lock()  # a walk may be shared by the threads of tests.browser.parallel

    def visit(self, page, role, url, seen):
        """Checks the page ``url`` leads to, unless this role has already checked it. Downloads
        (PDF, CSV…) and other answers that are not HTML are not pages."""
        try:
            response = page.goto(url)
        except PlaywrightError as error:
            if "Download is starting" not in error.message:
                self.problems.append(f"[{role}] {url} : la page ne se charge pas ({error.message.splitlines()[0]})")
            return
        self.check(page, role, seen, response=response, url=url)

    def check(self, page, role, seen, *, response=None, url=None):
        """Checks the page currently loaded (reached by ``url``, by a form or a link), unless this
        role has already checked it."""
        url = url or page.url
        final = urlsplit(page.url)
        content_type = response.headers.get("content-type", "") if response is not None else "text/html"
        if final.path.startswith(self.excluded_prefixes) or not content_type.startswith("text/html"):
            return
        query = urlencode([(key, value) for key, value in parse_qsl(final.query) if key != "next"])
        key = final.path + (f"?{query}" if query else "")
        status = response.status if response is not None else 200
        label = url if key == url else f"{url} → {key}"
        if status >= 500:
            with self._lock:
                self.problems.append(f"[{role}] {label} : erreur {status}")
        elif status >= 400:
            # A space closed to this role answers the same error page at every URL: check it once.
            key = f"erreur {status} : {page.title()}"
            label = f"{label} ({key})"
        if key in seen:
            return
        seen.add(key)
        violations = audit_page(page, role=role, label=label, axe_results=self.axe_results)
        with self._lock:
            self.keys.add(key)
            self.checked += 1
            self.violations += violations
        if violations:
            directory = ARTIFACTS / "accessibilite"
            directory.mkdir(parents=True, exist_ok=True)
            slug = "".join(c if c.isalnum() else "_" for c in key).strip("_") or "accueil"
            page.screenshot(path=str(directory / f"{role}-{slug[:150]}.png"), full_page=True)

    def report(self):
        lines = []
        if self.problems:
            lines += ["Parcours incomplet :"] + [f"  - {problem}" for problem in self.problems]
        if self.violations:
            lines.append(format_violations(self.violations))
        return "\n".join(lines)

    def assert_clean(self):
        assert not self.problems and not self.violations, self.report()

"""Browser tests: Playwright (sync API) driving Debian's Chromium, headless, against the app
served by pytest-django's ``live_server`` (transactional database, static files served).

- ``browser``: one Chromium for the whole session (the binary found on the PATH, never one
  downloaded by Playwright);
- ``new_context()``: a fresh browser context (cookies, storage) on the live server, closed after
  the test; CSP is bypassed so that axe-core can be injected into the pages;
- ``page``: an anonymous page in a fresh context;
- ``demo``: the demo data (``passnum.demo.build()``), with its random passwords and TOTP secrets;
- ``login_as(role)``: a page logged in as the demo account of ``role``, by a session created with
  Django's test client whose cookie is copied into the context; every role is listed in
  ``tests.browser.support.DEMO_ROLES`` (loop over it, or ``@pytest.mark.parametrize("role", DEMO_ROLES)``
  — each test rebuilds the demo, a loop is cheaper);
- ``make_context()``: a context not tied to the live server (no database), for pages the test
  serves itself with ``page.route``;
- a failing test leaves a screenshot of each of its open pages in ``test-artifacts/``.
"""

import logging
import os
import re
import shutil

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from tests.browser.a11y import DESKTOP_VIEWPORT
from tests.browser.support import ARTIFACTS, CHROMIUM_ARGS, demo_user, log_in

# The sync API of Playwright runs an asyncio loop in the main thread: Django would otherwise
# refuse the ORM calls the tests make (demo data, sessions) next to it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DEFAULT_TIMEOUT_MS = 15_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the item, so fixtures know at teardown whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(node):
    return any(
        getattr(node, f"rep_{when}", None) is not None and getattr(node, f"rep_{when}").failed
        for when in ("setup", "call")
    )


@pytest.fixture(scope="session")
def playwright_driver():
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver):
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium est introuvable sur le PATH : installez le paquet Debian « chromium ».")
    browser = playwright_driver.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def make_context(browser, request):
    """``make_context(**options)`` → a fresh browser context, closed after the test; if the test
    fails, each of its open pages is first captured in ``test-artifacts/``."""
    contexts = []

    def make(**options):
        options = {
            "bypass_csp": True,  # axe-core is injected as a script; the CSP forbids inline scripts
            "viewport": DESKTOP_VIEWPORT,
            "locale": "fr-FR",
            **options,
        }
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make

    if _failed(request.node):
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")
        for context_number, context in enumerate(contexts):
            for page_number, open_page in enumerate(context.pages):
                path = ARTIFACTS / f"{stem}-{context_number}-{page_number}.png"
                try:
                    open_page.screenshot(path=str(path), full_page=True)
                except PlaywrightError as error:  # a screenshot must not hide the real failure
                    print(f"Capture d'écran impossible ({path.name}) : {error.message}")
                else:
                    print(f"Capture d'écran de l'échec : {path}")
    for context in contexts:
        context.close()


@pytest.fixture
def new_context(make_context, live_server):
    """``new_context(**options)`` → a fresh browser context whose relative URLs go to the live server."""

    def make(**options):
        return make_context(base_url=live_server.url, **options)

    return make


@pytest.fixture
def page(new_context):
    """An anonymous page in a fresh context."""
    return new_context().new_page()


@pytest.fixture
def demo(live_server):
    """The demo data (organisations of every kind, one account per role), built for this test."""
    from passnum import demo as demo_module

    return demo_module.build()


@pytest.fixture
def login_as(demo, new_context, live_server):
    """``login_as(role)`` → a page logged in as the demo account of ``role`` (e.g. ``"site"``)."""

    def login(role):
        context = new_context()
        log_in(context, demo_user(demo, role), live_server.url)
        return context.new_page()

    return login


@pytest.fixture
def quiet_request_log():
    """Spaces closed to a role answer 403 at each of their URLs: Django would log every one."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)

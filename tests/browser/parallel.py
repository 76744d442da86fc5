"""Walks split between threads, each with its own Chromium: while one browser runs axe-core,
the other loads its next page from the live server (a threaded server), so two workers keep
both cores of a CI machine busy. Playwright's sync API is per thread: every worker starts its
own driver and browser, and closes its database connection when done."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from playwright.sync_api import sync_playwright

from tests.browser.a11y import DESKTOP_VIEWPORT

WORKERS = int(os.environ.get("PASSNUM_BROWSER_WORKERS", "2"))
TIMEOUT_MS = 15_000


def in_parallel(items, job, *, base_url, chromium_args, workers=WORKERS):
    """Calls ``job(new_context, item)`` for every item, the items dealt in turn to ``workers``
    threads; ``new_context()`` gives a fresh browser context of the worker's Chromium, on the
    live server. Returns the results in the order of ``items``; a worker's failure is raised."""
    items = list(items)
    shares = [items[index::workers] for index in range(workers)]

    def work(share):
        results = []
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=shutil.which("chromium"), args=chromium_args)

            def new_context():
                context = browser.new_context(
                    base_url=base_url, bypass_csp=True, viewport=DESKTOP_VIEWPORT, locale="fr-FR"
                )
                context.set_default_timeout(TIMEOUT_MS)
                return context

            try:
                for item in share:
                    results.append((item, job(new_context, item)))
            finally:
                browser.close()
                connections.close_all()
        return results

    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = dict(pair for share_results in pool.map(work, [s for s in shares if s]) for pair in share_results)
    return [done[item] for item in items]

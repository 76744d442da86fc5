"""Accessibility of the operator's console: WCAG 2.1 AA / RGAA: every page of the
Django admin as the operator's staff (with the second factor) sees it.

For every registered model: its list, its add form, and the change form of an object of the
demo; every page a model's admin adds (close a month, the ledger, imports and exports…); then
every action of every list run on the list's first row, which shows the project's own
intermediate pages (qualification decision, payment recording, voiding a statement…) and
Django's deletion confirmation. Actions run last: some change the data the other pages show.
The pages are dealt between two browsers (``tests.browser.parallel``).
"""

import pytest
from django.contrib import admin
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError

from tests.browser.a11y import REFLOW_VIEWPORT
from tests.browser.parallel import WORKERS, in_parallel
from tests.browser.support import CHROMIUM_ARGS, demo_user, log_in
from tests.browser.walk import Walk

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("quiet_request_log")]

ROLE = "operateur"
# URL parameters an admin page may take, filled with the primary key of an object of the model.
OBJECT_PARAMETERS = ({"object_id"}, {"pk"})
# Pages left out: Django's history and deletion pages of one object (the same templates as the
# deletion confirmation the actions show), a redirect to the change form, and import-export's
# POST-only step.
SKIPPED_SUFFIXES = ("_history", "_delete", "process_import")
SKIPPED_ROUTES = ("<path:object_id>/",)


def admin_pages():
    """``(pages, without_object)``: the URLs of every admin page, and the models whose object pages
    could not be visited because the demo has no object of theirs."""
    pages = [reverse("admin:index")]
    without_object = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        pages.append(reverse("admin:app_list", kwargs={"app_label": opts.app_label}))
        obj = model._default_manager.order_by("pk").first()
        for pattern in model_admin.get_urls():
            if not pattern.name or pattern.name.endswith(SKIPPED_SUFFIXES) or str(pattern.pattern) in SKIPPED_ROUTES:
                continue
            parameters = set(pattern.pattern.regex.groupindex)
            if not parameters:
                pages.append(reverse(f"admin:{pattern.name}"))
            elif parameters in OBJECT_PARAMETERS and obj is not None:
                (parameter,) = parameters
                pages.append(reverse(f"admin:{pattern.name}", kwargs={parameter: obj.pk}))
        if obj is None:
            without_object.append(opts.label)
    return list(dict.fromkeys(pages)), without_object


def run_actions(page, walk, seen, changelist):
    """Runs each action of the list on its first row and checks the page it answers."""
    page.goto(changelist)
    select = page.locator("select[name=action]")
    if not select.count() or not page.locator("input.action-select").count():
        return 0
    actions = [value for value in select.locator("option").evaluate_all("(os) => os.map((o) => o.value)") if value]
    for action in actions:
        page.goto(changelist)
        page.locator("input.action-select").first.check()
        page.locator("select[name=action]").select_option(action)
        try:
            with page.expect_navigation() as navigation:
                page.locator("button[name=index]").click()
        except PlaywrightError as error:  # a download is not a page: the navigation is aborted
            if "Download is starting" in error.message or "net::ERR_ABORTED" in error.message:
                continue
            walk.problems.append(f"[{ROLE}] {changelist} action {action} : {str(error).splitlines()[0]}")
            continue
        walk.check(page, ROLE, seen, response=navigation.value, url=f"{changelist} (action {action})")
    return len(actions)


def test_every_admin_page_is_accessible(demo, live_server):
    pages, without_object = admin_pages()
    changelists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    walk = Walk()
    operator = demo_user(demo, ROLE)

    def walk_share(new_context, share):
        context = new_context()
        log_in(context, operator, live_server.url)
        page = context.new_page()
        page.set_viewport_size(REFLOW_VIEWPORT)  # axe-core switches to its widths when it runs
        seen = set()
        for url in pages[share::WORKERS]:
            walk.visit(page, ROLE, url, seen)
        action_count = sum(run_actions(page, walk, seen, url) for url in changelists[share::WORKERS])
        context.close()
        return action_count

    action_count = sum(in_parallel(range(WORKERS), walk_share, base_url=live_server.url, chromium_args=CHROMIUM_ARGS))

    print(
        f"Console : {len(pages)} adresses, {action_count} actions, {walk.checked} pages vérifiées ; "
        f"sans objet dans la démo : {', '.join(without_object) or 'aucun modèle'}"
    )
    assert walk.checked > len(admin.site._registry) * 2, "le parcours de la console n'a presque rien vérifié"
    assert action_count > 0, "aucune action de liste n'a été essayée"
    walk.assert_clean()

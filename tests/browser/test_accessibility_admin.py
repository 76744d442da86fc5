"""Accessibility of the operator's console: WCAG 2.1 AA / RGAA: every page of the
Django admin as the operator's staff (with the second factor) sees it.

For every registered model: its list, its add form, and the change form of one of its objects
(the demo's; for a model the demo has none of, one made here: ``ADMIN_OBJECTS`` or the model's
factory); every page a model's admin adds (close a month, the ledger, imports and exports…);
then every action of every list run on the list's first row, which shows the project's own
intermediate pages (qualification decision, payment recording, voiding a statement…) and
Django's deletion confirmation. Actions run last: some change the data the other pages show.
The walk fails if the change form of a registered model, or the add form of one the operator
may add to, was not checked. The pages are dealt between two browsers (``tests.browser.parallel``).
"""

import importlib

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError

from beneficiaries.models import LossDeclaration
from clearing.models import SubscriptionNetting
from mediators.qualification.models import Question
from tests.browser.a11y import REFLOW_VIEWPORT
from tests.browser.parallel import WORKERS, in_parallel
from tests.browser.support import CHROMIUM_ARGS, demo_user, log_in
from tests.browser.walk import Walk
from tests.tenancy import factory_for

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("quiet_request_log")]

ROLE = "operateur"
# URL parameters an admin page may take, filled with the primary key of an object of the model.
OBJECT_PARAMETERS = ({"object_id"}, {"pk"})
# Pages left out: Django's history and deletion pages of one object (the same templates as the
# deletion confirmation the actions show), a redirect to the change form, and import-export's
# POST-only step.
SKIPPED_SUFFIXES = ("_history", "_delete", "process_import")
SKIPPED_ROUTES = ("<path:object_id>/",)


def loss_declaration():
    """A booklet of a real order (generated, paid, allocated) handed out then declared lost, by the
    services: the orders' actions (print run…) then meet only data the application can make."""
    from beneficiaries.services import declare_lost, hand_over
    from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
    from tests.factories import OrganisationFactory

    prescriber = OrganisationFactory(prescriber=True)
    booklet = booklets_in_stock(prescriber, count=1)[0]
    hand_over(prescriber, booklet.serial, BENEFICIARY)
    return declare_lost(prescriber, booklet.serial)


def default_questionnaire():
    """The operator's questionnaire as its migration writes it (a test that emptied the tables
    before this one removed it)."""
    importlib.import_module("mediators.migrations.0002_default_questionnaire").seed(apps, None)


def subscription_netting():
    from clearing.services import set_subscription_netting
    from tests.mediators.factories import SiteFactory

    return set_subscription_netting(site=SiteFactory(qualified=True), enabled=True, by=None)


# Objects made for the walk when the demo has none, for the models without a factory (the others
# use theirs: ``tests.tenancy.factory_for``).
ADMIN_OBJECTS = {
    Group: lambda: Group.objects.create(name="Support de l'opérateur"),
    LossDeclaration: loss_declaration,
    Question: default_questionnaire,
    SubscriptionNetting: subscription_netting,
}


def complete_admin_objects():
    """One object of every registered model the database has none of; returns their labels."""
    made = []
    for model in admin.site._registry:
        if model._default_manager.exists():
            continue
        make = ADMIN_OBJECTS.get(model)
        if make is None:
            try:
                make = factory_for(model)
            except LookupError:
                pytest.fail(f"Aucun objet {model._meta.label} pour la console : ajoutez-le à ADMIN_OBJECTS.")
        make()
        made.append(model._meta.label)
    return made


def admin_pages(operator):
    """``(pages, forms)``: the URLs of every admin page, and the form pages that must be checked
    (the change form of one object of every registered model, the add form of every model
    ``operator`` may add to), each with its model's label."""
    request = RequestFactory().get(reverse("admin:index"))
    request.user = operator
    pages = [reverse("admin:index")]
    forms = {}
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
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", kwargs={"object_id": obj.pk})
        forms[change] = f"{opts.label} (modification)"
        if model_admin.has_add_permission(request):
            forms[reverse(f"admin:{opts.app_label}_{opts.model_name}_add")] = f"{opts.label} (ajout)"
    return list(dict.fromkeys(pages)), forms


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
    operator = demo_user(demo, ROLE)
    made = complete_admin_objects()
    pages, forms = admin_pages(operator)
    changelists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    walk = Walk()

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
        f"objets faits pour le parcours : {', '.join(made) or 'aucun'}"
    )
    unchecked = sorted(f"{label} : {url}" for url, label in forms.items() if url not in walk.keys)
    assert not unchecked, "formulaires de la console jamais vérifiés :\n  " + "\n  ".join(unchecked)
    assert walk.checked > len(admin.site._registry) * 2, "le parcours de la console n'a presque rien vérifié"
    assert action_count > 0, "aucune action de liste n'a été essayée"
    walk.assert_clean()

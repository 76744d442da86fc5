"""Accessibility of every page: WCAG 2.1 AA / RGAA.

The walk visits every named URL of the project — as an anonymous visitor and as each demo
role — and runs axe-core (WCAG 2.1 A and AA rules) plus the reflow check at 200 % zoom on each
distinct page reached. New pages are covered as soon as their route exists:

- a route without parameter is visited as it is;
- a ``tenant_path`` route gets an object of its model owned by the role's organisation, from the
  demo; the walk fails if no role has one (add it to the demo);
- a ``public_path`` route gets its parameters from ``PUBLIC_SAMPLES``; the walk fails for a
  public route missing from it (add a sample).

Each role checks each page it reaches once: the final URL after redirects (``?next=`` aside), or
for an error answer its status and title (a space closed to a role answers the same 403 page at
every URL). axe-core runs once per markup (``a11y.audit_page``): the same page structure seen by
another role gets the same result, while the reflow check, which depends on the words, runs on
every page. All violations are reported at the end, in one assertion.

Keyboard checks (Tab order, visible focus, no trap, skip link) run on the main flows.
"""

from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

from passnum.organisations import selectors
from passnum.organisations.models import ApiToken, Invitation
from tests.browser.a11y import REFLOW_VIEWPORT, keyboard_problems
from tests.browser.parallel import in_parallel
from tests.browser.support import ANONYMOUS, CHROMIUM_ARGS, DEMO_ROLES, demo_user, log_in
from tests.browser.walk import API_PREFIX, Walk
from tests.factories import ApiTokenFactory, InvitationFactory, OrganisationFactory
from tests.mediators.factories import PointOfPresenceFactory, redeemable_booklet
from tests.tenancy import is_third_party, iter_url_patterns, url_parameters

pytestmark = pytest.mark.browser

# Parameters of every public_path route: url name → callable returning the URL kwargs.
PUBLIC_SAMPLES = {
    "organisations:invitation": lambda: {"token": InvitationFactory().token},
    "mediators:public_point": lambda: {"pk": PointOfPresenceFactory(site__qualified=True).pk},
    # The URL in a pass's QR code: anyone sees the pass; a member of a qualified site, the scan page.
    "mediators:pass_landing": lambda: {"code": redeemable_booklet().passes.order_by("position").first().code},
}

# Pages of libraries that Passnum users see, styled by our templates.
THIRD_PARTY_PAGES = ["account_login", "account_signup", "account_reset_password", "account_email", "mfa_index"]

# Not pages: actions (POST only), JSON endpoints.
EXCLUDED_NAMES = {"healthz", "set_language", "account_logout", "api-schema", "territories:search_communes"}
# The operator's console has its own walk (test_accessibility_admin.py); the API is not HTML,
# but its reference (/api/docs/) is a page for people and is walked.
EXCLUDED_PREFIXES = ("/admin/", f"{API_PREFIX}v1/", f"{API_PREFIX}schema/")

# Objects of tenant models that the demo does not create yet, made for the walk in the role's
# organisation. Each entry is a gap of passnum/demo.py: remove it once the demo has the object.
DEMO_COMPLEMENTS = {
    Invitation: lambda organisation, user: InvitationFactory(organisation=organisation, invited_by=user),
    ApiToken: lambda organisation, user: ApiTokenFactory(organisation=organisation, user=user),
}


def _full_routes(patterns=None, prefix=""):
    """``{id(pattern): "full/route/"}`` for every URL pattern, to tell where a route lives."""
    routes = {}
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            routes.update(_full_routes(entry.url_patterns, route))
        else:
            routes[id(entry)] = "/" + route
    return routes


def project_pages():
    """The routes to walk: ``(simple, tenant, public, problems)``.

    ``simple`` is a list of ``(name, url)``; ``tenant`` and ``public`` lists of ``(name, pattern)``;
    ``problems`` lists the routes the walk cannot visit.
    """
    routes = _full_routes()
    simple, tenant, public, problems = [], [], [], []
    for name, pattern in iter_url_patterns():
        if is_third_party(pattern) or name in EXCLUDED_NAMES or routes[id(pattern)].startswith(EXCLUDED_PREFIXES):
            continue
        if not name:
            problems.append(f"la route {routes[id(pattern)]} n'a pas de nom : le parcours ne peut pas la visiter")
        elif not url_parameters(pattern):
            simple.append((name, reverse(name)))
        elif hasattr(pattern, "tenant_model"):
            tenant.append((name, pattern))
        elif hasattr(pattern, "tenant_public"):
            if name in PUBLIC_SAMPLES:
                public.append((name, pattern))
            else:
                problems.append(
                    f"la route publique {name} ({routes[id(pattern)]}) n'a pas d'exemple : "
                    "ajoutez-la à PUBLIC_SAMPLES dans tests/browser/test_accessibility.py"
                )
        else:
            problems.append(f"la route {name} prend un paramètre sans déclarer tenant_path ni public_path")
    for name in THIRD_PARTY_PAGES:
        try:
            simple.append((name, reverse(name)))
        except NoReverseMatch:
            problems.append(f"la page {name} n'existe plus : mettez THIRD_PARTY_PAGES à jour")
    return simple, tenant, public, problems


@pytest.mark.usefixtures("quiet_request_log")
def test_every_page_is_accessible(demo, live_server):
    simple, tenant, public, problems = project_pages()
    walk = Walk(excluded_prefixes=EXCLUDED_PREFIXES)
    walk.problems += problems
    public_urls = [reverse(name, kwargs=PUBLIC_SAMPLES[name]()) for name, _ in public]
    tenant_roles = {name: [] for name, _ in tenant}

    def walk_role(new_context, role):
        context = new_context()
        if role != ANONYMOUS:
            log_in(context, demo_user(demo, role), live_server.url)
        page = context.new_page()
        page.set_viewport_size(REFLOW_VIEWPORT)  # axe-core switches to its widths when it runs
        seen = set()
        if role != ANONYMOUS:
            # A role whose session does not work would only see the login page: say so.
            walk.visit(page, role, reverse("dashboard"), seen)
            if urlsplit(page.url).path != reverse("dashboard"):
                walk.problems.append(f"[{role}] n'est pas connecté : {reverse('dashboard')} mène à {page.url}")
        for _, url in simple:
            walk.visit(page, role, url, seen)
        if role != ANONYMOUS:
            user = demo_user(demo, role)
            memberships = selectors.active_memberships(user)
            organisation = memberships[0].organisation if memberships else None
            for name, pattern in tenant:
                model = pattern.tenant_model
                obj = model.objects.for_organisation(organisation).first() if organisation is not None else None
                if obj is None and organisation is not None and model in DEMO_COMPLEMENTS:
                    obj = DEMO_COMPLEMENTS[model](organisation, user)
                if obj is None:
                    continue
                kwargs = {url_kwarg: getattr(obj, field) for url_kwarg, field in pattern.tenant_lookups.items()}
                walk.visit(page, role, reverse(name, kwargs=kwargs), seen)
                tenant_roles[name].append(role)
        for url in public_urls:
            walk.visit(page, role, url, seen)
        context.close()

    # The roles are dealt between two browsers (tests.browser.parallel); the pages they share
    # (same markup, same words) are analysed once for all (Walk.axe_results).
    in_parallel([ANONYMOUS, *DEMO_ROLES], walk_role, base_url=live_server.url, chromium_args=CHROMIUM_ARGS)

    for name, roles in tenant_roles.items():
        if not roles:
            walk.problems.append(
                f"aucun rôle de la démo n'a d'objet pour la route {name} : ajoutez-en un à la démo "
                "(passnum/demo.py ou le demo.py de l'application)"
            )
    assert walk.checked > len(DEMO_ROLES) * 3, "le parcours n'a presque rien vérifié"
    walk.assert_clean()


def _assert_keyboard_ok(page, url):
    problems = keyboard_problems(page, url)
    assert not problems, "Problèmes au clavier :\n" + "\n".join(f"  - {problem}" for problem in problems)


def test_keyboard_home_page(page):
    _assert_keyboard_ok(page, reverse("home"))


def test_keyboard_login_page(page):
    _assert_keyboard_ok(page, reverse("account_login"))


def test_keyboard_organisation_page(new_context, live_server, member_of):
    # An administrator's page has the most controls: members, invitations, the invite button.
    # Factories rather than the demo here: the walk already checks this page for every demo role.
    organisation = OrganisationFactory(site=True)
    admin = member_of(organisation, role="admin")
    member_of(organisation, role="member")
    InvitationFactory(organisation=organisation, invited_by=admin)
    context = new_context()
    log_in(context, admin, live_server.url)

    _assert_keyboard_ok(context.new_page(), reverse("organisations:detail"))

"""Security checks over the whole project: CSRF on every state-changing route, production
settings passing Django's deployment checks, security headers in production."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authentication import SessionAuthentication

from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.tenancy import (
    factory_for,
    is_third_party,
    iter_url_patterns,
    route_tenancy,
    url_parameters,
    view_class_of,
)

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra):
    env = {
        **os.environ,
        "PASSNUM_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "passnum.example",
        **extra,
    }
    env.pop("DJANGO_DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    return env


def test_deploy_checks_pass_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_sends_hsts_and_redirects_to_https():
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "c = Client(HTTP_HOST='passnum.example');"
        "r = c.get('/healthz', secure=True); plain = c.get('/healthz');"
        "print(json.dumps({'hsts': r.headers.get('Strict-Transport-Security'),"
        " 'plain': plain.status_code, 'location': plain.headers.get('Location')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**production_env(), "DJANGO_SETTINGS_MODULE": "passnum.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    headers = json.loads(result.stdout.strip().splitlines()[-1])
    assert headers["hsts"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["hsts"]
    assert headers["plain"] == 301 and headers["location"].startswith("https://")


def uses_cookies(pattern):
    """API views without session authentication (tokens, credentials in the body) need no CSRF."""
    view_class = view_class_of(pattern)
    classes = getattr(view_class, "authentication_classes", None)
    return classes is None or any(issubclass(cls, SessionAuthentication) for cls in classes)


def routes_for_csrf():
    for name, pattern in iter_url_patterns():
        if not name or is_third_party(pattern) or not uses_cookies(pattern):
            continue
        yield pytest.param(name, pattern, id=name)


# Who walks each route: a member of every kind of organisation and the operator's staff, so that
# each route is posted to by the kind it serves (whose kind check would otherwise answer 403 first
# and hide a route exempted from CSRF).
CSRF_VISITORS = ("sponsor", "prescriber", "site", "funder", "operator")


def csrf_visitor(kind, member_of):
    if kind == "operator":
        user = UserFactory(staff=True, with_mfa=True)
        MembershipFactory(user=user, organisation=OrganisationFactory(operator=True), role="admin")
        return user
    return member_of(OrganisationFactory(kind=kind))


def is_csrf_refusal(response):
    """The CSRF refusal itself — the project's page (CSRF_FAILURE_VIEW) or the API's ``csrf_failed``
    — and not any other 403 (a kind or role check)."""
    if response.status_code != 403:
        return False
    if response.headers.get("Content-Type", "").startswith("application/json"):
        return response.json()["error"]["code"] == "csrf_failed"
    return "403_csrf.html" in {template.name for template in response.templates}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), list(routes_for_csrf()))
def test_every_state_changing_route_requires_the_csrf_token(name, pattern, member_of):
    """A logged-in user's POST without the CSRF token gets the CSRF refusal on every route of the
    project, whatever the kind of organisation they act for."""
    kwargs = {}
    if url_parameters(pattern):
        tenancy = route_tenancy(pattern)
        if tenancy[0] == "tenant":
            _, model, lookups = tenancy
            obj = factory_for(model)()
            kwargs = {url_kwarg: getattr(obj, field) for url_kwarg, field in lookups.items()}
        else:
            kwargs = {param: "1" for param in url_parameters(pattern)}
    url = reverse(name, kwargs=kwargs)
    for kind in CSRF_VISITORS:
        client = Client(enforce_csrf_checks=True)
        client.force_login(csrf_visitor(kind, member_of))
        response = client.post(url, {"email": "x@exemple.fr", "name": "x"})
        assert is_csrf_refusal(response), (
            f"POST {url} sans jeton CSRF par un membre {kind} : {response.status_code}, pas le refus CSRF"
        )
        # The same request with its token passes the CSRF check (the walk is not vacuous).
        client.get(reverse("home"))
        token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
        if token:
            response = client.post(url, {"email": "x@exemple.fr", "name": "x"}, headers={"x-csrftoken": token})
            assert not is_csrf_refusal(response), f"POST {url} avec le jeton CSRF : toujours refusé"


def _ignored_by_git(name):
    """``.gitignore``'s verdict on a file at the root: the last pattern that matches wins, a
    ``!`` pattern takes the file back (enough for the root's simple patterns)."""
    import fnmatch

    verdict = False
    for line in (ROOT / ".gitignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        if fnmatch.fnmatch(name, pattern.lstrip("!").lstrip("/").rstrip("/")):
            verdict = not negated
    return verdict


def test_the_secrets_file_is_never_committed():
    # The production compose file reads its secrets from .env: git must never take it.
    assert _ignored_by_git(".env") and _ignored_by_git(".env.production")
    assert not _ignored_by_git(".env.example")  # the documented example stays in the repository

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

from tests.factories import OrganisationFactory
from tests.tenancy import (
    factory_for,
    is_third_party,
    iter_url_patterns,
    owning_organisation,
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


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), list(routes_for_csrf()))
def test_every_state_changing_route_requires_the_csrf_token(name, pattern, member_of):
    """A logged-in user's POST without the CSRF token is refused on every route of the project."""
    organisation = OrganisationFactory()
    kwargs = {}
    if url_parameters(pattern):
        tenancy = route_tenancy(pattern)
        if tenancy[0] == "tenant":
            _, model, lookups = tenancy
            obj = factory_for(model)()
            organisation = owning_organisation(obj)
            kwargs = {url_kwarg: getattr(obj, field) for url_kwarg, field in lookups.items()}
        else:
            kwargs = {param: "1" for param in url_parameters(pattern)}
    client = Client(enforce_csrf_checks=True)
    client.force_login(member_of(organisation))
    url = reverse(name, kwargs=kwargs)
    response = client.post(url, {"email": "x@exemple.fr", "name": "x"})
    if url.startswith("/api/") and response.status_code == 405:
        return  # read-only endpoint: nothing to change
    if name == "healthz":
        assert response.status_code in {403, 405}
        return
    assert response.status_code == 403, f"POST {url} sans jeton CSRF : {response.status_code}"

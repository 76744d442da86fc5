"""Showing a confirm-before-destroy page changes nothing (undo, close, remove, cancel, revoke,
return, lost…): the page asks, only its POST acts. The whole database is compared before and
after — every row of every model — not one field chosen in advance.

The walk covers every route that takes an object (``tenant_path``), so a new confirmation page is
covered as soon as it is added; the pages reached from a form (return, lost) are tested below.
"""

import hashlib

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.beneficiaries.factories import booklets_in_stock
from tests.factories import OrganisationFactory
from tests.tenancy import (
    factory_for,
    is_third_party,
    iter_url_patterns,
    owning_organisation,
    route_tenancy,
    url_parameters,
)

pytestmark = pytest.mark.django_db

# The confirmation pages among the routes that take an object: each must be found by the walk.
CONFIRMATION_ROUTES = {
    "mediators:point_close",
    "mediators:catalogue_remove",
    "mediators:document_delete",
    "mediators:workshop_cancel",
    "mediators:redemption_undo",
    "prescribers:undo",
    "organisations:cancel_invitation",
    "organisations:remove_member",
    "organisations:revoke_api_token",
    "sponsors:order_confirm",
    "calls:call_publish",
    "calls:call_close",
    "grants:document_delete",
    "grants:submit",
}


def database_fingerprint():
    """Every row of every model (sessions aside: a visit may refresh its own session)."""
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if model is Session:
            continue
        rows = model._base_manager.order_by("pk").values_list()
        digest.update(f"{model._meta.label}:{list(rows)!r}".encode())
    return digest.hexdigest()


def tenant_routes():
    routes = []
    for name, pattern in iter_url_patterns():
        if is_third_party(pattern) or not url_parameters(pattern):
            continue
        tenancy = route_tenancy(pattern)
        if tenancy and tenancy[0] == "tenant":
            routes.append(pytest.param(name, pattern, id=name))
    return routes


TENANT_ROUTES = tenant_routes()


def test_every_confirmation_route_is_walked():
    assert {param.values[0] for param in TENANT_ROUTES} >= CONFIRMATION_ROUTES


def is_confirmation_page(response):
    names = {template.name for template in response.templates}
    return "confirm.html" in names or any(name.endswith(("_confirm.html", "_undo.html")) for name in names)


@pytest.mark.parametrize(("name", "pattern"), TENANT_ROUTES)
def test_showing_a_confirmation_page_changes_nothing(name, pattern, client, member_of):
    _, model, lookups = route_tenancy(pattern)
    obj = factory_for(model)()
    url = reverse(name, kwargs={url_kwarg: getattr(obj, field) for url_kwarg, field in lookups.items()})
    client.force_login(member_of(owning_organisation(obj), role="admin"))
    before = database_fingerprint()
    response = client.get(url)
    if not (response.status_code == 200 and is_confirmation_page(response)):
        assert name not in CONFIRMATION_ROUTES, f"GET {url}: {response.status_code}, not a confirmation page"
        return
    assert name in CONFIRMATION_ROUTES, f"{name} is a confirmation page: add it to CONFIRMATION_ROUTES"
    page = response.content.decode()
    assert '<form method="post"' in page and 'type="submit"' in page
    assert database_fingerprint() == before, f"GET {url} changed the database"


@pytest.fixture
def counter(client, member_of):
    prescriber = OrganisationFactory(prescriber=True)
    client.force_login(member_of(prescriber, role="member"))
    return prescriber


def test_return_to_the_operator_confirmation_changes_nothing(client, counter):
    OrganisationFactory(operator=True)
    booklets = booklets_in_stock(counter, count=2)
    before = database_fingerprint()
    page = client.post(reverse("prescribers:return"), {"serials": " ".join(b.serial for b in booklets)})
    assert page.status_code == 200
    assert "prescribers/return_confirm.html" in {t.name for t in page.templates}
    assert database_fingerprint() == before


def test_lost_booklet_confirmation_changes_nothing(client, counter):
    booklet = booklets_in_stock(counter, count=1)[0]
    before = database_fingerprint()
    page = client.get(reverse("prescribers:lost"), {"serial": booklet.serial, "kind": "lost"})
    assert page.status_code == 200
    assert "prescribers/lost_confirm.html" in {t.name for t in page.templates}
    assert database_fingerprint() == before

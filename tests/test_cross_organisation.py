"""Another organisation's object answers 404, whatever the URL (DESIGN §7).

The walk covers every URL pattern of the project: a route with a parameter must be declared
with ``tenant_path`` (its model is then created for one organisation and requested by a user
of another) or with ``public_path`` (a code or token meant for whoever holds it). New routes
are covered as soon as they are added.
"""

import pytest
from django.urls import reverse

from tests.factories import OrganisationFactory
from tests.tenancy import (
    factory_for,
    is_third_party,
    iter_url_patterns,
    owning_organisation,
    route_tenancy,
    url_parameters,
)


def project_routes_with_parameters():
    routes = []
    for name, pattern in iter_url_patterns():
        if is_third_party(pattern) or not url_parameters(pattern):
            continue
        routes.append(pytest.param(name, pattern, id=name or str(pattern.pattern)))
    return routes


ROUTES = project_routes_with_parameters()


def test_the_walk_finds_routes():
    assert len(ROUTES) >= 3


@pytest.mark.parametrize(("name", "pattern"), ROUTES)
def test_route_declares_its_tenancy(name, pattern):
    assert route_tenancy(pattern) is not None, (
        f"La route {name} ({pattern.pattern}) prend un paramètre mais ne déclare ni tenant_path(model=…) "
        "ni public_path(reason=…) (ou, pour l'API, TenantScopedMixin ou tenant_public)."
    )
    assert name, f"La route {pattern.pattern} doit avoir un nom."


TENANT_ROUTES = [param for param in ROUTES if (route_tenancy(param.values[1]) or ("",))[0] == "tenant"]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), TENANT_ROUTES)
def test_object_of_another_organisation_answers_404(name, pattern, client, member_of):
    _, model, lookups = route_tenancy(pattern)
    obj = factory_for(model)()
    owner_organisation = owning_organisation(obj)
    kwargs = {url_kwarg: getattr(obj, field) for url_kwarg, field in lookups.items()}
    url = reverse(name, kwargs=kwargs)

    outsider = member_of(OrganisationFactory(kind=owner_organisation.kind), role="admin")
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 404, f"GET {url} par une autre organisation : {response.status_code}"
    assert str(obj) not in response.content.decode()
    # A route that takes no POST may say so (405) before looking anything up: no data either way.
    response = client.post(url)
    assert response.status_code in {404, 405}, f"POST {url} par une autre organisation : {response.status_code}"
    assert str(obj) not in response.content.decode()

    # Positive control: the owner's organisation reaches the object.
    insider = member_of(owner_organisation, role="admin")
    client.force_login(insider)
    response = client.get(url)
    assert response.status_code != 404, f"GET {url} par l'organisation propriétaire : 404"

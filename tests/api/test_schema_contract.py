"""The API honours its published OpenAPI schema, for every role: schemathesis generates requests
from the live schema (served by the application itself) and checks every answer — no 5xx, status
codes, content types and bodies as documented."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.services import create_api_token
from passnum.wsgi import application
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory


@pytest.fixture
def api_schema(db):
    # The application is called in-process, inside the test's transaction: like Django's test
    # client, keep the end of each request from closing the database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")

ROLES = [(kind, Role.ADMIN) for kind in OrganisationKind.values if kind != OrganisationKind.OPERATOR] + [
    (OrganisationKind.SITE, Role.MEMBER),
    (None, None),  # anonymous
]


@pytest.fixture
def headers_of_each_role(db):
    """Token headers of a user of each kind of organisation, and none for the anonymous."""
    headers = []
    for kind, role in ROLES:
        if kind is None:
            headers.append({})
            continue
        organisation = OrganisationFactory(kind=kind)
        user = UserFactory()
        MembershipFactory(user=user, organisation=organisation, role=role)
        MembershipFactory.create_batch(2, organisation=organisation)
        _token, key = create_api_token(organisation=organisation, user=user, name="schemathesis")
        headers.append({"Authorization": f"Token {key}"})
    return headers


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, headers_of_each_role):
    for headers in headers_of_each_role:
        case.call_and_validate(headers=headers)

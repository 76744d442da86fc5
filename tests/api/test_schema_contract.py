"""The API honours its published OpenAPI schema, for every role, on the demo's data.

schemathesis generates requests from the live schema (served by the application itself) and
checks every answer — no 5xx, status codes, content types and bodies as documented — sent with
the API token of a user of each kind of organisation, and anonymously. The database holds the
demo (organisations of every kind, referential, qualified sites, passes, booklets, redemptions),
so success bodies are real ones, not empty lists.

Generated path parameters rarely name an existing object: each case is also sent with real
identifiers. And each operation is called once as its documentation shows it — the examples
of the schema, with the demo's real codes, serials and ids swapped in — by the organisation it
is meant for: every operation must answer at least one 2xx validated against the schema, or be
pinned in ``NO_2XX_EXPECTED`` with the reason.
"""

import copy
import json
import uuid
from io import StringIO

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.specs.openapi.checks import positive_data_acceptance

from clearing.models import Statement
from clearing.tasks import render_statement_pdfs
from mediators.models import Redemption
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Membership, Organisation
from passnum.organisations.services import create_api_token
from passnum.wsgi import application
from sponsors.models import Programme

# Operations allowed never to answer 2xx in the run, with the reason. Keep it short.
NO_2XX_EXPECTED = {}

DEMO_SITE = "Espace numérique de Talence"  # the demo's site with an admin and redemptions


@pytest.fixture
def api_schema(demo_world):
    # The demo is built first: the test client it uses reconnects the signals below.
    # The application is called in-process, inside the test's transaction: like Django's test
    # client, keep the end of each request from closing the database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


class DemoWorld:
    """The demo's data as the API sees it: a token per role, and real values for each operation."""

    def __init__(self):
        out = StringIO()
        call_command("demo", "--json", stdout=out)
        self.output = json.loads(out.getvalue())
        self.headers = {"anonymous": {}}
        accounts = {account["email"]: account for account in self.output["accounts"]}
        for account in accounts.values():
            membership = Membership.objects.select_related("user", "organisation").get(
                user__email=account["email"], organisation__name=account["organisation"]
            )
            label = f"{membership.organisation.kind}/{membership.role}"
            _token, key = create_api_token(
                organisation=membership.organisation, user=membership.user, name="schemathesis"
            )
            self.headers.setdefault(label, {"Authorization": f"Token {key}"})
        kinds = {label.split("/")[0] for label in self.headers}
        assert kinds >= set(OrganisationKind.values), kinds

        site = Organisation.objects.get(name=DEMO_SITE)
        in_stock = [b["serial"] for b in self.output["booklets_in_stock"]]
        passes = self.output["redeemable_passes"]
        assert len(in_stock) >= 2 and len(passes) >= 3, "the demo lost its booklets or passes"
        # A counter's member: administrators have a second factor, and a password alone gives them no token.
        token_account = next(
            account
            for account in accounts.values()
            if account["kind"] == "prescriber" and account["role"] == "member" and not account.get("totp_secret")
        )
        assert token_account["password"], "a new demo account tells its password"
        scan = {"service": passes[0]["service"], "point_of_presence": passes[0]["point_of_presence"]}

        # A redemption made now, so that it can still be undone (the demo's are spread over a month).
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=self.headers["site/admin"]["Authorization"])
        response = client.post(
            "/api/v1/redemptions", {"codes": [passes[2]["code"]], **scan}, format="json", HTTP_IDEMPOTENCY_KEY="setup"
        )
        assert response.status_code == 201, response.content
        undoable = response.json()["id"]
        older = Redemption.objects.filter(site__organisation=site).exclude(pk=undoable).order_by("redeemed_at").first()
        statement = Statement.objects.filter(site__organisation=site).order_by("number").first()
        assert statement is not None, "the demo lost its closed month"
        # The worker renders a statement's PDF after the close commits (never, inside a test's transaction).
        render_statement_pdfs([statement.pk])

        sponsor_name = next(a["organisation"] for a in self.output["accounts"] if a["kind"] == "sponsor")
        demo_programme = Programme.objects.filter(sponsor__name=sponsor_name).order_by("pk").first()
        assert demo_programme is not None, "the demo lost its programme"
        # Per operation: the role it is meant for, real path parameters and body fields, query.
        self.real = {
            "POST /api/v1/auth/token/": (
                "anonymous",
                {},
                {"email": token_account["email"], "password": token_account["password"]},
            ),
            "GET /api/v1/booklets/{serial}": ("prescriber/admin", {"serial": in_stock[0]}, None),
            "POST /api/v1/distributions": ("prescriber/admin", {}, {"booklet_serial": in_stock[-1]}),
            "GET /api/v1/me": ("sponsor/admin", {}, None),
            "GET /api/v1/organisation/members": ("funder/member", {}, None),
            "GET /api/v1/organisation/members/{id}": (
                "site/admin",
                {"id": Membership.objects.filter(organisation=site).order_by("pk").first().pk},
                None,
            ),
            "GET /api/v1/passes/{code}": ("site/member", {"code": passes[0]["code"]}, None),
            "GET /api/v1/redemptions": ("site/member", {}, None),
            "POST /api/v1/redemptions": ("site/admin", {}, {"codes": [passes[1]["code"]], **scan}),
            "GET /api/v1/redemptions/{id}": ("site/admin", {"id": str(older.pk)}, None),
            "DELETE /api/v1/redemptions/{id}": ("site/admin", {"id": undoable}, None),
            "GET /api/v1/referential/services": ("anonymous", {}, None),
            "GET /api/v1/referential/services/{code}": ("anonymous", {"code": scan["service"]}, None),
            "GET /api/v1/reports/programmes/{id}": ("sponsor/admin", {"id": demo_programme.pk}, None),
            "GET /api/v1/sites": ("anonymous", {}, None),
            "GET /api/v1/sites.csv": ("anonymous", {}, None),
            "GET /api/v1/statements": ("site/admin", {}, None),
            "GET /api/v1/statements/{number}": ("site/member", {"number": statement.number}, None),
            "GET /api/v1/statements/{number}/pdf": ("site/admin", {"number": statement.number}, None),
        }

    def documented_case(self, operation):
        """The operation as its documentation shows it, with real values: the schema's examples
        of path parameters and body, the demo's identifiers swapped in, the intended role's token."""
        role, path_overrides, body_overrides = self.real[operation.label]
        raw = operation.definition.raw
        path_parameters = {}
        headers = dict(self.headers[role])
        for parameter in raw.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter.get("examples"), f"{operation.label}: document an example of « {parameter['name']} »"
                path_parameters[parameter["name"]] = next(iter(parameter["examples"].values()))["value"]
            elif parameter["in"] == "header" and parameter["name"] == "Idempotency-Key":
                assert parameter.get("examples"), f"{operation.label}: document an example of the key"
                headers["Idempotency-Key"] = str(uuid.uuid4())  # a fresh one, as a client would
        path_parameters.update(path_overrides)
        kwargs = {}
        content = raw.get("requestBody", {}).get("content", {}).get("application/json")
        if content is not None:
            assert content.get("examples"), f"{operation.label}: document an example of the request body"
            body = copy.deepcopy(next(iter(content["examples"].values()))["value"])
            body.update(body_overrides or {})
            kwargs = {"body": body, "media_type": "application/json"}
        return operation.Case(path_parameters=path_parameters, headers=headers, query={}, **kwargs)

    def with_real_path(self, case):
        """The generated case, aimed at an object that exists."""
        _role, path_overrides, _body = self.real[case.operation.label]
        return case.operation.Case(
            path_parameters={**case.path_parameters, **path_overrides},
            headers=dict(case.headers or {}),
            query=case.query,
            body=case.body,
            media_type=case.media_type,
        )


@pytest.fixture
def demo_world(db):
    return DemoWorld()


@pytest.fixture
def validated_2xx(api_schema):
    """Operation → the 2xx statuses seen (each one validated); checked when the run ends."""
    seen = {}
    yield seen
    operations = {result.ok().label for result in api_schema.get_all_operations()}
    missing = sorted(operations - set(seen) - set(NO_2XX_EXPECTED))
    assert not missing, f"No 2xx response validated against the schema for: {missing}"
    assert set(seen) | set(NO_2XX_EXPECTED) == operations


def business_refusal(response):
    """A well-formed request refused by a documented business rule with 400 (`code_malformed`,
    `point_of_presence_unknown`…): the contract, not a request the API failed to read (`invalid`)."""
    if response.status_code != 400:
        return False
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return False
    return code not in ("invalid", "idempotency_key_invalid")


def call(case, headers, seen):
    # Rate-limit and throttle counters live in the cache: each call starts with none, so the
    # checks run on real answers instead of 429s (the limits themselves are tested elsewhere).
    cache.clear()
    response = case.call(headers=headers)
    # Schema-valid data must be accepted, except for a documented business refusal.
    excluded = [positive_data_acceptance] if business_refusal(response) else []
    transport = {"headers": dict(headers)}
    case.validate_response(response, headers=headers, excluded_checks=excluded, transport_kwargs=transport)
    if 200 <= response.status_code < 300:
        seen.setdefault(case.operation.label, set()).add(response.status_code)
    return response


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, demo_world, validated_2xx):
    label = case.operation.label
    assert label in demo_world.real, f"{label}: add its real values to DemoWorld.real"
    if label not in validated_2xx:
        documented = demo_world.documented_case(case.operation)
        response = call(documented, {}, validated_2xx)
        assert 200 <= response.status_code < 300 or label in NO_2XX_EXPECTED, (
            f"{label} as documented, with real values: {response.status_code} {response.text[:500]}"
        )
    for headers in demo_world.headers.values():
        call(case, headers, validated_2xx)
    if case.path_parameters:  # the same request on an object that exists, by its owner and by no one
        real_path = demo_world.with_real_path(case)
        owner = demo_world.real[label][0]
        for headers in {owner: demo_world.headers[owner], "anonymous": {}}.values():
            call(real_path, headers, validated_2xx)

import uuid

import pytest
from rest_framework.test import APIClient

from beneficiaries.models import HandOver
from passnum.idempotency.models import StoredAnswer
from passnum.organisations.services import create_api_token
from passnum.passes.models import PassState
from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def api_for(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="admin")
    _token, key = create_api_token(organisation=organisation, user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def prescriber():
    return OrganisationFactory(prescriber=True)


def post(client, body, key=None):
    """A request with its own key (a new one per request, as a client must), unless ``key``."""
    return client.post("/api/v1/distributions", body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def test_distribution_replayed_with_the_same_key_applies_once(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    client = api_for(prescriber)
    body = {"booklet_serial": booklet.serial, "beneficiary": BENEFICIARY}
    first = post(client, body, key="cle-1")
    assert first.status_code == 201, first.json()
    assert first.json()["active_passes"] == 10
    again = post(client, body, key="cle-1")
    assert again.status_code == 201 and again.content == first.content  # byte for byte
    assert HandOver.objects.count() == 1 and StoredAnswer.objects.filter(scope="distributions").count() == 1
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.ACTIVE}
    other = post(client, {**body, "beneficiary": {**BENEFICIARY, "age_band": "75+"}}, key="cle-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    second_key = post(client, body, key="cle-2")
    assert second_key.status_code == 409 and second_key.json()["error"]["code"] == "booklet_already_handed_out"


def test_distribution_refusals(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    other = booklets_in_stock(OrganisationFactory(prescriber=True), count=1)[0]
    client = api_for(prescriber)
    assert post(client, {"booklet_serial": "ZZZ000001", "beneficiary": BENEFICIARY}).status_code == 404
    response = post(client, {"booklet_serial": other.serial, "beneficiary": BENEFICIARY})
    assert response.status_code == 404 and response.json()["error"]["code"] == "booklet_not_in_stock"
    response = post(client, {"booklet_serial": booklet.serial, "beneficiary": {**BENEFICIARY, "commune": "330"}})
    assert response.status_code == 400
    response = post(client, {"booklet_serial": booklet.serial, "beneficiary": {**BENEFICIARY, "contact_consent": True}})
    assert response.status_code == 400 and response.json()["error"]["code"] == "beneficiary_invalid"
    response = client.post(
        "/api/v1/distributions", {"booklet_serial": booklet.serial, "beneficiary": BENEFICIARY}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "idempotency_key_invalid"
    assert (
        post(
            api_for(OrganisationFactory(site=True)), {"booklet_serial": booklet.serial, "beneficiary": BENEFICIARY}
        ).status_code
        == 403
    )
    assert post(APIClient(), {"booklet_serial": booklet.serial, "beneficiary": BENEFICIARY}).status_code == 401
    assert not HandOver.objects.exists()


def test_booklet_endpoint_answers_only_for_the_holder(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    response = api_for(prescriber).get(f"/api/v1/booklets/{booklet.serial}")
    assert response.status_code == 200
    assert response.json() == {
        "serial": booklet.serial,
        "state": "allocated",
        "programme": booklet.programme.name,
        "passes": 10,
        "active_passes": 0,
        "valid_until": booklet.programme.valid_until.isoformat(),
    }
    assert api_for(OrganisationFactory(prescriber=True)).get(f"/api/v1/booklets/{booklet.serial}").status_code == 404
    assert api_for(booklet.programme.sponsor).get(f"/api/v1/booklets/{booklet.serial}").status_code == 404

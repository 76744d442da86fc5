"""The counter takes the commune of residence by name or by code, and shows names: « Talence »
becomes 33522, a name several communes share asks for the code, a code that names no commune
is refused, and the last hand-overs read « Talence (33) »."""

import pytest
from django.urls import reverse

from beneficiaries import services as beneficiary_services
from beneficiaries.models import HandOver
from passnum.errors import DomainError
from passnum.refusals import Refusal
from tests.beneficiaries.factories import booklets_in_stock
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

HAND_OVER = reverse("prescribers:hand_over")


@pytest.fixture
def prescriber():
    return OrganisationFactory(prescriber=True)


@pytest.fixture
def agent(client, prescriber, member_of):
    client.force_login(member_of(prescriber, role="member"))


def scan_and_confirm(client, prescriber, **changes):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    page = client.get(HAND_OVER, {"serial": booklet.serial})
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    data.update(audiences=["seniors"], **changes)
    return page, client.post(HAND_OVER, data)


def test_the_commune_is_typed_by_its_name(client, agent, prescriber):
    page, response = scan_and_confirm(client, prescriber, commune="talence")
    assert response.status_code == 302
    assert HandOver.objects.get().beneficiary.commune == "33522"
    # The programme's communes are offered by name; the last hand-overs show the name.
    assert '<option value="33063">Bordeaux (33)</option>' in page.content.decode()
    assert "<td>Talence (33)</td>" in client.get(reverse("prescribers:home")).content.decode()


def test_a_name_several_communes_share_asks_for_the_code(client, agent, prescriber):
    _page, response = scan_and_confirm(client, prescriber, commune="Saint-Denis")
    assert response.status_code == 400
    message = response.context["form"].errors["commune"][0]
    assert "Plusieurs communes" in message and "97411" in message
    assert not HandOver.objects.exists()


def test_a_code_of_no_commune_is_refused(client, agent, prescriber):
    _page, response = scan_and_confirm(client, prescriber, commune="33999")
    assert response.status_code == 400
    assert "Aucune commune n'a le code INSEE 33999" in response.context["form"].errors["commune"][0]


def test_the_service_knows_saint_martin_and_refuses_a_code_of_nothing():
    assert beneficiary_services.check_commune(code="97801") == "97801"
    with pytest.raises(DomainError) as caught:
        beneficiary_services.check_commune(code="97899")
    assert (caught.value.code, caught.value.field) == (Refusal.INSEE_UNKNOWN, "commune")


def test_the_distributions_api_refuses_a_code_of_no_commune(prescriber):
    import uuid

    from rest_framework.test import APIClient

    from passnum.organisations.services import create_api_token
    from tests.beneficiaries.factories import BENEFICIARY
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory()
    MembershipFactory(user=user, organisation=prescriber, role="admin")
    _token, key = create_api_token(organisation=prescriber, user=user, name="test")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    booklet = booklets_in_stock(prescriber, count=1)[0]
    body = {"booklet_serial": booklet.serial, "beneficiary": {**BENEFICIARY, "commune": "33999"}}
    response = api.post("/api/v1/distributions", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 400 and response.json()["error"]["code"] == Refusal.INSEE_UNKNOWN
    assert not HandOver.objects.exists()
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "`insee_unknown`" in schema["paths"]["/api/v1/distributions"]["post"]["description"]


def test_a_shared_name_means_the_commune_of_the_programme(client, agent, prescriber):
    booklet = booklets_in_stock(prescriber, count=1, communes=["97411"], departments=[])[0]
    page = client.get(HAND_OVER, {"serial": booklet.serial})
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    response = client.post(HAND_OVER, {**data, "audiences": ["seniors"], "commune": "Saint-Denis"})
    assert response.status_code == 302
    assert HandOver.objects.get().beneficiary.commune == "97411"

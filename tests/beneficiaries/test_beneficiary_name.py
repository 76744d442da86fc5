"""The programme setting ``requires_beneficiary_name``: a name only when the programme requires it,
and then with the person's consent (service and API)."""

import pytest
from rest_framework.test import APIClient

from beneficiaries import services
from beneficiaries.models import HandOver
from passnum.errors import DomainError
from passnum.organisations.services import create_api_token
from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prescriber():
    return OrganisationFactory(prescriber=True)


def refused(*args, **kwargs):
    with pytest.raises(DomainError) as caught:
        services.hand_over(*args, **kwargs)
    assert caught.value.code == "beneficiary_invalid", caught.value.message
    assert not HandOver.objects.exists()
    return caught.value


def test_programme_requires_name_reads_the_setting():
    assert services.programme_requires_name(ProgrammeFactory.build()) is False
    assert services.programme_requires_name(ProgrammeFactory.build(requires_beneficiary_name=True)) is True


def test_name_is_stored_with_consent_when_required(prescriber):
    booklet = booklets_in_stock(prescriber, count=1, requires_beneficiary_name=True)[0]
    handover, _ = services.hand_over(
        prescriber, booklet.serial, {**BENEFICIARY, "name": "  Camille   Martin ", "name_consent": True}
    )
    assert handover.beneficiary.name == "Camille Martin"


def test_required_name_missing_or_without_consent_is_refused(prescriber):
    booklet = booklets_in_stock(prescriber, count=1, requires_beneficiary_name=True)[0]
    error = refused(prescriber, booklet.serial, BENEFICIARY)
    assert error.field == "name" and "demande le nom" in error.message
    error = refused(prescriber, booklet.serial, {**BENEFICIARY, "name": "Camille Martin"})
    assert error.field == "name_consent" and "accord" in error.message


def test_name_is_refused_when_not_required(prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    error = refused(prescriber, booklet.serial, {**BENEFICIARY, "name": "Camille", "name_consent": True})
    assert error.field == "name"
    handover, _ = services.hand_over(prescriber, booklet.serial, {**BENEFICIARY, "name": "   "})
    assert handover.beneficiary.name == ""


def test_name_is_purged_with_the_other_personal_fields(prescriber):
    booklet = booklets_in_stock(prescriber, count=1, requires_beneficiary_name=True)[0]
    handover, _ = services.hand_over(
        prescriber, booklet.serial, {**BENEFICIARY, "name": "Camille", "name_consent": True}
    )
    services._purge(handover.beneficiary)
    handover.beneficiary.refresh_from_db()
    assert handover.beneficiary.name == "" and handover.beneficiary.age_band == BENEFICIARY["age_band"]


def api_for(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="admin")
    _token, key = create_api_token(organisation=organisation, user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_api_distribution_sends_the_name_when_the_programme_requires_it(prescriber):
    required, plain = (
        booklets_in_stock(prescriber, count=1, requires_beneficiary_name=True)[0],
        booklets_in_stock(prescriber, count=1)[0],
    )
    client = api_for(prescriber)

    def post(serial, beneficiary, key):
        body = {"booklet_serial": serial, "beneficiary": beneficiary}
        return client.post("/api/v1/distributions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    response = post(required.serial, BENEFICIARY, "k1")
    assert response.status_code == 400 and response.json()["error"]["code"] == "beneficiary_invalid"
    response = post(required.serial, {**BENEFICIARY, "name": "Camille Martin", "name_consent": True}, "k2")
    assert response.status_code == 201, response.json()
    assert HandOver.objects.get(booklet=required).beneficiary.name == "Camille Martin"
    response = post(plain.serial, {**BENEFICIARY, "name": "Camille Martin", "name_consent": True}, "k3")
    assert response.status_code == 400 and "ne demande pas le nom" in response.json()["error"]["message"]
    response = post(plain.serial, {**BENEFICIARY, "name_consent": "oui"}, "k4")
    assert response.status_code == 400

"""The counter's hand-over form and the programme setting ``requires_beneficiary_name``."""

import re

import pytest
from django.urls import reverse

from beneficiaries.models import HandOver
from tests.beneficiaries.factories import booklets_in_stock
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

HAND_OVER = reverse("prescribers:hand_over")


@pytest.fixture
def prescriber():
    return OrganisationFactory(prescriber=True)


@pytest.fixture
def agent(client, prescriber, member_of):
    user = member_of(prescriber, role="member")
    client.force_login(user)
    return user


def defaults(response, **changes):
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    data.update(changes)
    return data


def test_form_requires_the_name_and_consent_when_the_programme_does(client, agent, prescriber):
    booklet = booklets_in_stock(prescriber, count=1, requires_beneficiary_name=True)[0]
    page = client.get(HAND_OVER, {"serial": booklet.serial})
    form = page.context["form"]
    assert list(form.fields)[2:4] == ["name", "name_consent"]
    html = page.content.decode()
    # The focus starts in the name field, and only there.
    [name_input] = re.findall(r'<input[^>]*name="name"[^>]*>', html)
    assert "autofocus" in name_input and html.count("autofocus") == 1
    response = client.post(HAND_OVER, defaults(page, audiences=["seniors"]))
    assert response.status_code == 400
    assert "demande le nom" in response.context["form"].errors["name"][0]
    response = client.post(HAND_OVER, defaults(page, audiences=["seniors"], name="Camille Martin"))
    assert response.status_code == 400
    assert "accord" in response.context["form"].errors["name_consent"][0]
    assert not HandOver.objects.exists()
    response = client.post(HAND_OVER, defaults(page, audiences=["seniors"], name="Camille Martin", name_consent="on"))
    assert response.status_code == 302
    assert HandOver.objects.get().beneficiary.name == "Camille Martin"


def test_form_has_no_name_and_stores_none_when_the_programme_does_not_require_it(client, agent, prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    page = client.get(HAND_OVER, {"serial": booklet.serial})
    assert "name" not in page.context["form"].fields
    assert 'name="name"' not in page.content.decode()
    # A name slipped into the request anyway is not stored.
    response = client.post(HAND_OVER, defaults(page, audiences=["seniors"], name="Camille Martin", name_consent="on"))
    assert response.status_code == 302
    assert HandOver.objects.get().beneficiary.name == ""

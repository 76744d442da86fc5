import pytest
from django.urls import reverse

from beneficiaries import services
from passnum.passes import codes
from passnum.passes.models import PassState
from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
URL = reverse("beneficiaries:verify")


@pytest.fixture
def handed_out():
    prescriber = OrganisationFactory(prescriber=True)
    booklet = booklets_in_stock(prescriber, count=1)[0]
    services.hand_over(prescriber, booklet.serial, {**BENEFICIARY, "contact_consent": True, "email": "x@exemple.fr"})
    return booklet


def test_page_is_public(client):
    response = client.get(URL)
    assert response.status_code == 200 and "Vérifier mon pass" in response.content.decode()


def test_pass_code_shows_what_remains_and_until_when_without_personal_data(client, handed_out):
    item = handed_out.passes.get(position=1)
    response = client.get(URL, {"code": codes.grouped(item.code).lower()})
    page = response.content.decode()
    assert "Ce pass est utilisable." in page and "10 sur 10" in page
    assert f"{item.valid_until:%d/%m/%Y}" in page and 'href="/trouver/"' in page
    assert "x@exemple.fr" not in page and "33063" not in page


def test_booklet_serial_shows_remaining_passes_to_a_signed_in_counter(client, handed_out, member_of):
    handed_out.passes.filter(position__lte=3).update(state=PassState.REDEEMED)
    client.force_login(member_of(OrganisationFactory(prescriber=True), role="member"))
    page = client.get(URL, {"code": handed_out.serial}).content.decode()
    assert "7 sur 10" in page and "70 €" in page


def test_booklet_serial_shows_remaining_passes_to_the_operator(client, handed_out, operator_user):
    client.force_login(operator_user)
    assert "10 sur 10" in client.get(URL, {"code": handed_out.serial}).content.decode()


def test_booklet_serial_tells_nothing_to_anyone_else(client, handed_out, member_of):
    """Serials are sequential: anonymous visitors (and members of sites or sponsors) counting
    through them learn nothing of a booklet, only how to check their own pass."""
    handed_out.passes.filter(position=1).update(state=PassState.REDEEMED)
    for user in (None, member_of(OrganisationFactory(site=True)), member_of(OrganisationFactory(sponsor=True))):
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in (URL + "?code=" + handed_out.serial, reverse("mediators:pass_landing", args=[handed_out.serial])):
            page = client.get(url).content.decode()
            assert "9 sur 10" not in page and "90 €" not in page and "1 utilisé" not in page
            assert "tapez le code d&#x27;un de ses pass" in page or "tapez le code d'un de ses pass" in page


def test_mistyped_malformed_and_unknown_codes_say_so(client):
    code = codes.generate()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert "faute de frappe" in client.get(URL, {"code": wrong}).content.decode()
    assert "ni un code de pass" in client.get(URL, {"code": "bonjour"}).content.decode()
    assert "aucun pass" in client.get(URL, {"code": code}).content.decode()
    assert "tapez le code" in client.get(URL, {"code": "GIR999999"}).content.decode()


def test_rate_limited_per_ip(client, monkeypatch):
    import time

    now = time.time()
    monkeypatch.setattr("passnum.ratelimit.time.time", lambda: now)  # one window, whatever the clock
    for _ in range(20):
        assert client.get(URL, {"code": "bonjour"}).status_code == 200
    response = client.get(URL, {"code": "bonjour"})
    assert response.status_code == 429 and "Trop de tentatives" in response.content.decode()
    assert client.get(URL, {"code": "bonjour"}, REMOTE_ADDR="10.0.0.9").status_code == 200

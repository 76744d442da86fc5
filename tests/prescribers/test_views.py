from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from beneficiaries.models import HandOver
from passnum.passes.models import Booklet, PassState
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


def scan(client, serial):
    return client.get(HAND_OVER, {"serial": serial})


def confirm(client, response, **changes):
    """Posts the hand-over form with its defaults (what pressing Enter does)."""
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    data.update(changes)
    return client.post(HAND_OVER, data)


def test_counter_shows_stock_by_programme(client, agent, prescriber, django_assert_max_num_queries):
    booklets = booklets_in_stock(prescriber, count=3)
    client.get(HAND_OVER)  # warm the session
    confirm(client, scan(client, booklets[0].serial), audiences=["seniors"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("prescribers:home"))
    assert response.status_code == 200
    row = response.context["stock"][0]
    assert (row["in_stock"], row["handed_out"], row["cancelled"]) == (2, 1, 0)
    assert "Annuler la remise" in response.content.decode()


def test_other_kinds_of_organisation_are_refused(client, member_of):
    client.force_login(member_of(OrganisationFactory(site=True)))
    assert client.get(reverse("prescribers:home")).status_code == 403


def test_scan_then_enter_hands_the_booklet_over_with_defaults(client, agent, prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    response = client.get(HAND_OVER)
    assert "autofocus" in response.content.decode() and 'name="serial"' in response.content.decode()
    response = scan(client, f" {booklet.serial.lower()}\n")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="communes-du-programme"' in page and '<option value="33063">' in page
    assert (
        'value="seniors"' in page
        and "autofocus"
        in page.split('value="seniors"')[0].rsplit("<input", 1)[1] + page.split('value="seniors"')[1].split(">")[0]
    )
    assert "Seniors</label>" in page and "Demandeurs d&#x27;emploi</label>" in page  # labels shown, codes sent
    response = confirm(client, response, audiences=["seniors"])
    assert response.status_code == 302
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.HANDED_OUT
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.ACTIVE}
    follow = client.get(response["Location"])
    assert f"Carnet {booklet.serial} remis" in follow.content.decode()


def test_the_next_hand_over_reuses_the_last_values(client, agent, prescriber):
    first, second = booklets_in_stock(prescriber, count=2)
    confirm(client, scan(client, first.serial), age_band="75+", commune="33522", audiences=["seniors"])
    response = scan(client, second.serial)
    assert 'class="button" autofocus>Confirmer' in response.content.decode()
    form = response.context["form"]
    assert (form["age_band"].value(), form["commune"].value(), form["audiences"].value()) == (
        "75+",
        "33522",
        ["seniors"],
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: "ZZZ000001", "Aucun carnet"),
        (lambda p: booklets_in_stock(OrganisationFactory(prescriber=True), count=1)[0].serial, "ne fait pas partie"),
        (lambda p: booklets_in_stock(p, count=1, paid=False)[0].serial, "pas encore payée"),
        (
            lambda p: booklets_in_stock(p, count=1, valid_until=timezone.localdate() - timedelta(days=3))[0].serial,
            "a pris fin",
        ),
    ],
)
def test_scan_refusals_are_clear(client, agent, prescriber, make, message):
    response = scan(client, make(prescriber))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "form" not in response.context or response.context.get("booklet") is None


def test_form_refusals_are_tied_to_fields(client, agent, prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    page = scan(client, booklet.serial)
    response = confirm(client, page, commune="3306")
    assert response.status_code == 400 and "n'existe pas" in response.context["form"].errors["commune"][0]
    response = confirm(client, page, contact_consent="on")
    assert "e-mail ou son téléphone" in response.context["form"].errors["email"][0]
    response = confirm(client, page, commune="75056", audiences=["seniors"])
    assert "hors du territoire" in response.content.decode()
    assert not HandOver.objects.exists()


def test_double_submitted_form_applies_once(client, agent, prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    page = scan(client, booklet.serial)
    first = confirm(client, page, audiences=["seniors"])
    second = confirm(client, page, audiences=["seniors"])
    assert first.status_code == second.status_code == 302
    assert "déjà été envoyé" in client.get(second["Location"]).content.decode()
    assert HandOver.objects.count() == 1


def test_undo_then_lost_and_replacement(client, agent, prescriber):
    first, second, third = booklets_in_stock(prescriber, count=3)
    confirm(client, scan(client, first.serial), audiences=["seniors"])
    handover = HandOver.objects.get()
    url = reverse("prescribers:undo", args=[handover.pk])
    assert "Annuler cette remise" in client.get(url).content.decode()
    client.post(url)
    first.refresh_from_db()
    assert first.state == Booklet.State.ALLOCATED

    confirm(client, scan(client, second.serial), audiences=["seniors"])
    lost_url = reverse("prescribers:lost")
    response = client.get(lost_url, {"serial": second.serial, "kind": "stolen"})
    assert "10 pass non utilisés seront annulés" in response.content.decode()
    response = client.post(f"{lost_url}?serial={second.serial}&kind=stolen", {"confirm": "1"})
    assert response.status_code == 302 and f"replaces={second.serial}" in response["Location"]
    second.refresh_from_db()
    assert set(second.passes.values_list("state", flat=True)) == {PassState.CANCELLED}
    page = client.get(response["Location"])
    assert "Carnet de remplacement" in page.content.decode()
    page = client.get(HAND_OVER, {"serial": third.serial, "replaces": second.serial})
    response = confirm(client, page)
    assert response.status_code == 302
    replacement = HandOver.objects.get(booklet=third)
    assert replacement.replaces.booklet == second
    assert replacement.beneficiary == HandOver.objects.get(booklet=second).beneficiary


def test_undo_after_15_minutes_says_so(client, agent, prescriber):
    booklet = booklets_in_stock(prescriber, count=1)[0]
    confirm(client, scan(client, booklet.serial), audiences=["seniors"])
    HandOver.objects.update(at=timezone.now() - timedelta(minutes=20))
    response = client.post(reverse("prescribers:undo", args=[HandOver.objects.get().pk]), follow=True)
    assert "15 minutes" in response.content.decode()


def test_lost_refusals(client, agent, prescriber):
    other = booklets_in_stock(OrganisationFactory(prescriber=True), count=1)[0]
    response = client.get(reverse("prescribers:lost"), {"serial": other.serial, "kind": "lost"})
    assert response.status_code == 400 and "pas été confié" in response.content.decode()
    response = client.get(reverse("prescribers:lost"), {"serial": "XX", "kind": "lost"})
    assert "Aucun carnet" in response.content.decode()

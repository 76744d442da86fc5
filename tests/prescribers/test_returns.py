"""The counter's page to return unused booklets to the operator (/counter/rendre/)."""

import pytest
from django.urls import reverse

from passnum.audit.models import AuditLog
from passnum.passes.models import Booklet, StockMovement
from passnum.passes.services import hand_out_booklet
from tests.beneficiaries.factories import booklets_in_stock
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

RETURN = reverse("prescribers:return")


@pytest.fixture
def operator():
    return OrganisationFactory(operator=True)


@pytest.fixture
def prescriber():
    return OrganisationFactory(prescriber=True)


@pytest.fixture
def agent(client, prescriber, member_of):
    user = member_of(prescriber, role="member")
    client.force_login(user)
    return user


def held(booklets):
    return [(b.state, b.holder_id) for b in Booklet.objects.filter(pk__in=[b.pk for b in booklets]).order_by("serial")]


def confirm(client, page):
    """Posts the confirmation page's form (its hidden fields)."""
    context = page.context
    return client.post(RETURN, {"serials": context["serials"], "batch": context["batch"], "confirm": "1"})


def test_page_lists_the_stock_by_programme_with_ranges(client, agent, prescriber, django_assert_max_num_queries):
    booklets = booklets_in_stock(prescriber, count=5)
    hand_out_booklet(booklets[2])
    booklets_in_stock(OrganisationFactory(prescriber=True), count=1)  # someone else's stock
    with django_assert_max_num_queries(10):
        response = client.get(RETURN)
    assert response.status_code == 200
    [row] = response.context["stock"]
    assert row["count"] == 4
    assert row["ranges"] == [
        f"{booklets[0].serial} à {booklets[1].serial}",
        f"{booklets[3].serial} à {booklets[4].serial}",
    ]
    page = response.content.decode()
    assert f"{booklets[0].serial} à {booklets[1].serial}" in page
    assert 'name="serials"' in page and 'name="first_serial"' in page and "4 carnet(s) en stock" in page
    assert reverse("prescribers:return") in client.get(reverse("prescribers:home")).content.decode()


def test_serials_then_confirmation_then_return(client, agent, prescriber, operator):
    booklets = booklets_in_stock(prescriber, count=3)
    page = client.post(RETURN, {"serials": f"{booklets[0].serial}\n{booklets[2].serial.lower()}"})
    assert page.status_code == 200
    assert "Confirmer le retour de 2 carnets" in page.content.decode()
    assert held(booklets) == [(Booklet.State.ALLOCATED, prescriber.pk)] * 3  # nothing moved yet
    response = confirm(client, page)
    assert response.status_code == 302 and response["Location"] == reverse("prescribers:home")
    assert held(booklets) == [
        (Booklet.State.CREATED, None),
        (Booklet.State.ALLOCATED, prescriber.pk),
        (Booklet.State.CREATED, None),
    ]
    assert StockMovement.objects.filter(from_organisation=prescriber, to_organisation=operator).count() == 2
    entry = AuditLog.objects.get(action="passes.booklets.returned")
    assert entry.actor == agent
    home = client.get(response["Location"]).content.decode()
    assert "2 carnet(s) rendu(s) à l&#x27;opérateur" in home
    # A double click on "Oui, rendre": applied once, said so.
    again = confirm(client, page)
    assert again.status_code == 302
    assert "rendus qu&#x27;une fois" in client.get(again["Location"]).content.decode()
    assert StockMovement.objects.filter(from_organisation=prescriber).count() == 2


def test_whole_programme_and_range(client, agent, prescriber, operator):
    first = booklets_in_stock(prescriber, count=3)
    second = booklets_in_stock(prescriber, count=3)
    page = client.post(RETURN, {"programme": str(first[0].programme_id)})
    assert page.context["count"] == 3
    confirm(client, page)
    assert held(first) == [(Booklet.State.CREATED, None)] * 3
    page = client.post(RETURN, {"first_serial": second[0].serial, "last_serial": second[1].serial})
    assert page.context["count"] == 2
    assert f"{second[0].serial} à {second[1].serial}" in page.content.decode()
    confirm(client, page)
    assert held(second) == [(Booklet.State.CREATED, None)] * 2 + [(Booklet.State.ALLOCATED, prescriber.pk)]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, None, "Indiquez les carnets à rendre"),
        ({"serials": "ZZZ000001"}, "serials", "Aucun carnet ne porte le numéro ZZZ000001"),
        ({"serials": "x", "first_serial": "y"}, None, "une seule façon"),
        ({"first_serial": "ZZZ000001"}, "first_serial", "le premier et le dernier"),
        ({"programme": "999999"}, "programme", "choix valide"),
    ],
)
def test_bad_input_is_refused_on_the_form(client, agent, prescriber, operator, data, field, message):
    booklets_in_stock(prescriber, count=1)
    response = client.post(RETURN, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field or "__all__"]), errors
    assert not StockMovement.objects.filter(from_organisation=prescriber).exists()


def test_handed_out_and_cancelled_booklets_are_refused(client, agent, prescriber, operator):
    booklets = booklets_in_stock(prescriber, count=3)
    hand_out_booklet(booklets[1])
    response = client.post(RETURN, {"first_serial": booklets[0].serial, "last_serial": booklets[2].serial})
    assert response.status_code == 400
    assert "déjà été remis" in response.context["form"].errors["first_serial"][0]
    # Handed out between the confirmation page and the confirmation: refused, nothing moved.
    page = client.post(RETURN, {"serials": f"{booklets[0].serial} {booklets[2].serial}"})
    hand_out_booklet(booklets[2])
    response = confirm(client, page)
    assert response.status_code == 400
    assert "déjà été remis" in response.context["form"].errors["serials"][0]
    assert held(booklets)[0] == (Booklet.State.ALLOCATED, prescriber.pk)


def test_booklets_of_another_prescriber_are_not_found(client, agent, prescriber, operator):
    """Cross-organisation: another prescriber's booklets are outside this counter's stock, like an
    unknown object (the service answers ``booklet_not_in_stock``, status 404); nothing is said of them."""
    other = OrganisationFactory(prescriber=True)
    theirs = booklets_in_stock(other, count=2)
    hand_out_booklet(theirs[1])
    for data in (
        {"serials": theirs[0].serial},
        {"serials": theirs[1].serial},
        {"first_serial": theirs[0].serial, "last_serial": theirs[1].serial},
        {"programme": str(theirs[0].programme_id)},
    ):
        response = client.post(RETURN, data)
        assert response.status_code == 400
        text = response.content.decode()
        assert "déjà été remis" not in text
        assert "ne fait pas partie du stock" in text or "ne sont pas dans le stock" in text or "choix valide" in text
    confirm_forged = client.post(RETURN, {"serials": theirs[0].serial, "batch": "x" * 32, "confirm": "1"})
    assert confirm_forged.status_code == 400
    assert held(theirs) == [(Booklet.State.ALLOCATED, other.pk), (Booklet.State.HANDED_OUT, other.pk)]
    assert theirs[0].serial not in client.get(RETURN).content.decode()


def test_other_kinds_of_organisation_are_refused(client, member_of):
    client.force_login(member_of(OrganisationFactory(sponsor=True)))
    assert client.get(RETURN).status_code == 403
    assert client.post(RETURN, {"serials": "GIR000001"}).status_code == 403


def test_empty_stock_says_so(client, agent):
    response = client.get(RETURN)
    assert response.status_code == 200
    assert "aucun carnet en stock" in response.content.decode()

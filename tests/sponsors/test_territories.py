"""A programme's territory, by the referential of communes: every overseas collectivity is
accepted, a code that names no commune or department is refused, and pages and the booklet
cover show names (« Bordeaux (33) »), not codes."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from passnum.errors import DomainError
from passnum.passes.selectors import design_for
from passnum.refusals import Refusal
from sponsors import services
from sponsors.models import Programme
from tests.factories import OrganisationFactory
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def programme_data(**overrides):
    return {
        "name": "Pass numérique des Îles du Nord",
        "prefix": "IDN",
        "face_value_cents": 1000,
        "passes_per_booklet": 10,
        "valid_until": date(timezone.localdate().year + 1, 12, 31),
        "grace_months": 1,
        "grace_days": 0,
        "departments": ["978", "977"],
        "communes": ["97502", "98735"],
        "audiences": ["Seniors"],
        "cofunders": [("État (ANCT)", 5000)],
        **overrides,
    }


def test_a_programme_covers_saint_martin_saint_barthelemy_and_the_other_collectivities():
    programme = services.create_programme(OrganisationFactory(sponsor=True), programme_data())
    assert programme.departments == ["978", "977"] and programme.communes == ["97502", "98735"]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"communes": ["33063", "33999"]}, Refusal.INSEE_UNKNOWN, "communes"),
        ({"communes": ["97899"]}, Refusal.INSEE_UNKNOWN, "communes"),
        ({"departments": ["979"]}, Refusal.DEPARTMENT_UNKNOWN, "departments"),
        ({"departments": ["20"]}, Refusal.DEPARTMENT_UNKNOWN, "departments"),
    ],
)
def test_a_well_formed_code_of_nothing_is_refused(overrides, code, field):
    with pytest.raises(DomainError) as caught:
        services.create_programme(OrganisationFactory(sponsor=True), programme_data(**overrides))
    assert (caught.value.code, caught.value.field) == (code, field)
    assert "Aucun" in caught.value.message
    assert not Programme.objects.exists()


def test_the_programme_page_names_its_territory(client, member_of):
    programme = ProgrammeFactory(departments=["33", "978"], communes=["33063", "97701"])
    client.force_login(member_of(programme.sponsor, role="admin"))
    page = client.get(reverse("sponsors:programme", args=[programme.pk])).content.decode()
    assert "Gironde (33), Saint-Martin (978), Bordeaux (33), Saint-Barthélemy (977)" in page
    assert "communes 33063" not in page


def test_the_programme_form_refuses_an_unknown_commune_in_french(client, member_of):
    sponsor = OrganisationFactory(sponsor=True)
    client.force_login(member_of(sponsor, role="admin"))
    data = {
        "name": "Pass Gironde",
        "prefix": "GIR",
        "face_value_euros": "10",
        "passes_per_booklet": "10",
        "valid_until": f"31/12/{timezone.localdate().year + 1}",
        "grace_months": "1",
        "grace_days": "0",
        "departments": "33",
        "communes": "33063, 33999",
        "audiences": ["seniors"],
        "cofunders": "État (ANCT) ; 50",
    }
    response = client.post(reverse("sponsors:programme_create"), data)
    assert response.status_code in (200, 400)
    assert "Aucune commune n&#x27;a le code INSEE 33999" in response.content.decode()
    assert not Programme.objects.exists()


def test_the_booklet_cover_names_the_communes():
    programme = ProgrammeFactory(departments=[], communes=["33063", "33522"])
    assert design_for(programme).territory == "Bordeaux (33), Talence (33)"
    programme = ProgrammeFactory(departments=["978"], communes=[])
    assert design_for(programme).territory == "Saint-Martin (978)"

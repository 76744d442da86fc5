"""The referential of communes and departments: loaded by a migration from the Etalab package,
versioned, complete for every territory of the scheme (Saint-Martin and Saint-Barthélemy
included), searched by name without accents, and the source of the names shown for codes."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from passnum.audit.models import AuditLog
from passnum.territories import selectors
from passnum.territories.models import Commune, Department, TerritoryVersion
from passnum.territories.services import import_referential
from passnum.territories.source import Referential, read_referential
from passnum.territories.templatetags.territories import commune_label

pytestmark = pytest.mark.django_db


def test_the_migration_loaded_a_version_of_the_package():
    version = selectors.latest_version()
    assert version.source_name.startswith("@etalab/decoupage-administratif ")
    assert version.commune_count == Commune.objects.count() > 34_000
    assert version.department_count == Department.objects.count() == 109


@pytest.mark.parametrize(
    ("code", "name", "department", "postcode"),
    [
        ("97801", "Saint-Martin", "978", "97150"),
        ("97701", "Saint-Barthélemy", "977", "97133"),
        ("97502", "Saint-Pierre", "975", "97500"),
        ("97501", "Miquelon-Langlade", "975", "97500"),
        ("97411", "Saint-Denis", "974", "97400"),
        ("2A004", "Ajaccio", "2A", "20000"),
        ("75101", "Paris 1er Arrondissement", "75", "75001"),
    ],
)
def test_every_territory_of_the_scheme_is_in_the_referential(code, name, department, postcode):
    commune = selectors.commune(code=code)
    assert (commune.name, commune.department) == (name, department)
    assert postcode in commune.postcodes.split()


def test_every_overseas_collectivity_of_the_referential_is_a_territory():
    assert selectors.department_labels(codes=["975", "977", "978", "986", "987", "988"]) == {
        "975": "Saint-Pierre-et-Miquelon (975)",
        "977": "Saint-Barthélemy (977)",
        "978": "Saint-Martin (978)",
        "986": "Wallis et Futuna (986)",
        "987": "Polynésie française (987)",
        "988": "Nouvelle-Calédonie (988)",
    }
    assert selectors.unknown_departments(codes=["979", "99", "33"]) == ["979", "99"]
    assert selectors.unknown_communes(codes=["98735", "33063", "33999"]) == ["33999"]
    assert selectors.department_of(insee_code="98735") == "987"
    assert selectors.department_of(insee_code="2A004") == "2A"


def test_a_postcode_belongs_to_the_territory_that_uses_it_not_to_its_first_digits():
    assert selectors.postcode_departments(postcode="97150") == {"978"}
    assert selectors.postcode_departments(postcode="97133") == {"977"}
    assert selectors.postcode_departments(postcode="97110") == {"971"}
    assert selectors.postcode_departments(postcode="20000") == {"2A"}
    assert selectors.postcode_departments(postcode="98714") == {"987"}
    # A CEDEX code no commune lists falls back to its department.
    assert selectors.postcode_departments(postcode="33077") == {"33"}


@pytest.mark.parametrize(
    ("latitude", "longitude", "territory"),
    [
        ("18.07", "-63.08", "Saint-Martin"),
        ("17.897", "-62.85", "Saint-Barthélemy"),
        ("46.78", "-56.17", "Saint-Pierre-et-Miquelon"),
        ("-17.535", "-149.569", "Polynésie française"),  # Papeete
        ("-22.276", "166.458", "Nouvelle-Calédonie"),  # Nouméa
        ("-13.28", "-176.17", "Wallis-et-Futuna"),
        ("16.265", "-61.551", "Guadeloupe"),
        ("44.8083", "-0.588", "France métropolitaine"),
        ("40.7128", "-74.006", None),
    ],
)
def test_each_territory_has_its_own_box(latitude, longitude, territory):
    assert selectors.territory_at(latitude=Decimal(latitude), longitude=Decimal(longitude)) == territory


def test_names_for_codes():
    assert commune_label("33063") == "Bordeaux (33)"
    assert commune_label("97801") == "Saint-Martin (978)"
    assert commune_label("33999") == "33999"  # an unknown code reads as itself, never an error
    assert (
        selectors.territory_label(departments=["33", "978"], communes=["33063", "97701"])
        == "Gironde (33), Saint-Martin (978), Bordeaux (33), Saint-Barthélemy (977)"
    )


def test_communes_are_searched_without_accents_case_or_hyphens():
    saint_barth = selectors.search_communes(query="saint barth")
    assert "97701" in [c.code for c in saint_barth]
    assert saint_barth[0].folded_name.startswith("saint barth")
    assert "27229" in [c.code for c in selectors.search_communes(query="EVREUX")]  # Évreux
    assert [c.code for c in selectors.search_communes(query="97150")] == ["97801"]
    first = selectors.search_communes(query="bordeaux")[0]
    assert first.code == "33063"  # a name that starts with the query comes first
    assert selectors.search_communes(query="b") == []


def test_a_name_means_a_commune_when_it_is_the_only_one():
    assert [c.code for c in selectors.communes_named(text="talence")] == ["33522"]
    assert [c.code for c in selectors.communes_named(text="Saint-Denis (974)")] == ["97411"]
    assert len(selectors.communes_named(text="Saint-Denis")) > 1
    assert [c.code for c in selectors.communes_named(text="97801")] == ["97801"]


def test_the_search_endpoint_answers_json_to_anyone(client):
    response = client.get(reverse("territories:search_communes"), {"q": "saint-martin"})
    assert response.status_code == 200
    communes = response.json()["communes"]
    saint_martin = next(c for c in communes if c["code"] == "97801")
    assert saint_martin == {
        "code": "97801",
        "nom": "Saint-Martin",
        "departement": "978",
        "codes_postaux": ["97150"],
        "libelle": "Saint-Martin (978)",
    }
    assert client.get(reverse("territories:search_communes")).json() == {"communes": []}


def test_importing_the_same_package_again_changes_nothing():
    before = selectors.latest_version()
    assert import_referential() == before
    assert TerritoryVersion.objects.count() == 1


def test_a_new_edition_replaces_the_referential_as_a_new_version_in_the_audit_log():
    current = read_referential()
    merged = [c for c in current.communes if c[0] != "33063"]
    edition = Referential(
        source_name="@etalab/decoupage-administratif 6.0.1",
        sha256="0" * 64,
        departments=current.departments,
        communes=merged,
    )
    version = import_referential(referential=edition, note="Commune fusionnée")
    assert version.number == 2 and version.commune_count == len(merged)
    assert selectors.commune(code="33063") is None and selectors.commune(code="33522") is not None
    entry = AuditLog.objects.filter(action="territories.referential_imported").order_by("-pk").first()
    assert entry.after["number"] == 2 and entry.after["source_name"].endswith("6.0.1")


def test_the_command_loads_the_installed_package(capsys):
    call_command("load_territories")
    assert "version 1 (@etalab/decoupage-administratif" in capsys.readouterr().out

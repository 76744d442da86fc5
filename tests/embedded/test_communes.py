"""The referential of communes on the embedded default (SQLite): loaded by the migrations as
``make run`` applies them, searched without accents, and Saint-Martin accepted as a place."""

import pytest
from django.db import connection
from django.urls import reverse

from mediators.places import services as places_services
from passnum.territories import selectors
from tests.mediators.factories import SiteFactory

pytestmark = [pytest.mark.embedded, pytest.mark.django_db]


def test_the_migrated_sqlite_database_knows_every_territory(client):
    assert connection.vendor == "sqlite"
    assert selectors.latest_version().commune_count > 34_000
    assert selectors.commune(code="97801").name == "Saint-Martin"
    assert selectors.postcode_departments(postcode="97133") == {"977"}
    response = client.get(reverse("territories:search_communes"), {"q": "EVREUX"})
    assert "27229" in [c["code"] for c in response.json()["communes"]]  # Évreux


def test_a_place_in_saint_martin_is_accepted_on_sqlite():
    point = places_services.save_point_of_presence(
        site=SiteFactory(),
        by=None,
        data={
            "name": "Médiathèque de Marigot",
            "address": "Rue de la République",
            "postcode": "97150",
            "commune": "Saint-Martin",
            "insee_code": "97801",
            "latitude": "18.07",
            "longitude": "-63.08",
        },
    )
    assert point.insee_code == "97801"

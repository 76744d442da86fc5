"""Every territory of the scheme, for places: Saint-Martin, Saint-Barthélemy,
Saint-Pierre-et-Miquelon and the other overseas collectivities of the referential of communes
are accepted as places, found by the finder, published in the open data and paid by a
programme of their territory; a well-formed code of a commune that does not exist is refused."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from frictionless import Resource, Schema

from mediators.errors import SiteError
from mediators.places import services as places_services
from mediators.redemption.models import Redemption
from mediators.redemption.services import RedemptionRefused
from passnum.refusals import Refusal
from tests.mediators.factories import (
    CatalogueItemFactory,
    SiteFactory,
    redeem_passes,
    redeemable_booklet,
    redeeming_site,
)

pytestmark = pytest.mark.django_db

SCHEMA_FILE = Path(settings.BASE_DIR) / "mediators" / "data" / "standard-mediation-num-schema.json"

BASE = {
    "name": "Espace numérique",
    "address": "1 rue de la République",
    "phone": "",
}
SAINT_MARTIN = {
    **BASE,
    "name": "Médiathèque de Marigot",
    "postcode": "97150",
    "commune": "Saint-Martin",
    "insee_code": "97801",
    "latitude": "18.07",
    "longitude": "-63.08",
    "phone": "0590 87 00 00",
}
TERRITORIES = [
    SAINT_MARTIN,
    {**BASE, "postcode": "97133", "commune": "Saint-Barthélemy", "insee_code": "97701", "latitude": "17.897",
     "longitude": "-62.85"},
    {**BASE, "postcode": "97500", "commune": "Saint-Pierre", "insee_code": "97502", "latitude": "46.78",
     "longitude": "-56.17", "phone": "0508 41 00 00"},
    {**BASE, "postcode": "98714", "commune": "Papeete", "insee_code": "98735", "latitude": "-17.535",
     "longitude": "-149.569"},
    {**BASE, "postcode": "98800", "commune": "Nouméa", "insee_code": "98818", "latitude": "-22.276",
     "longitude": "166.458"},
    {**BASE, "postcode": "98600", "commune": "Uvea", "insee_code": "98613", "latitude": "-13.28",
     "longitude": "-176.17"},
]  # fmt: skip


@pytest.mark.parametrize("data", TERRITORIES, ids=lambda data: data["insee_code"])
def test_a_place_in_every_overseas_collectivity_is_accepted(data):
    point = places_services.save_point_of_presence(site=SiteFactory(), by=None, data=data)
    assert (point.insee_code, point.postcode) == (data["insee_code"], data["postcode"])


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        # 97150 is Saint-Martin's postcode, not Guadeloupe's: Basse-Terre (97105) does not use it.
        ({"insee_code": "97105"}, "insee_postcode_mismatch"),
        ({"postcode": "97110"}, "insee_postcode_mismatch"),
        # Well formed, but no commune has these codes.
        ({"insee_code": "97899"}, Refusal.INSEE_UNKNOWN),
        ({"insee_code": "33999", "postcode": "33000"}, Refusal.INSEE_UNKNOWN),
        # Guadeloupe's box does not reach Saint-Martin, nor Saint-Martin's the open sea.
        ({"latitude": "18.5", "longitude": "-63.08"}, "coordinates_outside_france"),
    ],
)
def test_what_does_not_match_the_referential_is_refused(changes, code):
    with pytest.raises(SiteError) as caught:
        places_services.save_point_of_presence(site=SiteFactory(), by=None, data={**SAINT_MARTIN, **changes})
    assert caught.value.code == code
    assert caught.value.message and code not in caught.value.message


def qualified_place(data):
    site = SiteFactory(qualified=True)
    CatalogueItemFactory(site=site)
    return places_services.save_point_of_presence(site=site, by=None, data=data)


def test_the_finder_finds_saint_martin_by_name_postcode_and_territory_code(client):
    qualified_place(SAINT_MARTIN)
    pointe_a_pitre = {"postcode": "97110", "commune": "Pointe-à-Pitre", "insee_code": "97120", "latitude": "16.24"}
    qualified_place({**SAINT_MARTIN, **pointe_a_pitre, "name": "Lieu de Pointe-à-Pitre", "longitude": "-61.53"})

    def names(place):
        response = client.get(reverse("mediators:finder"), {"place": place})
        assert response.status_code == 200
        return [p.name for p in response.context["page"]]

    assert names("saint martin") == ["Médiathèque de Marigot"]
    assert names("97150") == ["Médiathèque de Marigot"]
    assert names("97801") == ["Médiathèque de Marigot"]
    # 978 is Saint-Martin, 971 Guadeloupe — although 97150 starts with 971.
    assert names("978") == ["Médiathèque de Marigot"]
    assert names("971") == ["Lieu de Pointe-à-Pitre"]


def test_the_open_data_publishes_the_overseas_collectivities_in_the_national_schema(client, tmp_path):
    for data in TERRITORIES[:3]:
        qualified_place(data)
    response = client.get("/api/v1/sites.csv")
    (tmp_path / "lieux.csv").write_bytes(response.content)
    schema = Schema.from_descriptor(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    report = Resource(path="lieux.csv", basepath=str(tmp_path), schema=schema).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = {row["code_insee"]: row for row in client.get("/api/v1/sites").json()}
    assert set(rows) == {"97801", "97701", "97502"}
    assert rows["97801"]["code_postal"] == "97150" and rows["97801"]["telephone"] == "+590590870000"
    assert rows["97502"]["telephone"] == "+508508410000"


def test_a_programme_of_saint_martin_pays_a_place_of_saint_martin_and_not_of_guadeloupe():
    place = redeeming_site()
    place.point = places_services.save_point_of_presence(site=place.site, by=None, data=SAINT_MARTIN)
    paid = redeemable_booklet(departments=["978"])
    redeem_passes(place, list(paid.passes.order_by("position")[:1]))
    assert Redemption.objects.filter(point_of_presence=place.point).count() == 1
    elsewhere = redeemable_booklet(departments=["971"])
    with pytest.raises(RedemptionRefused) as caught, transaction.atomic():
        redeem_passes(place, list(elsewhere.passes.order_by("position")[:1]))
    assert caught.value.code == Refusal.SITE_OUT_OF_TERRITORY
    assert "(Guadeloupe (971))" in caught.value.message  # where the pass is valid, in words

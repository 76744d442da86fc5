"""The public finder, the workshops page and the open data: visibility rules, schema, query counts."""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from frictionless import Resource, Schema

from mediators.qualification.models import QualificationStatus
from tests.mediators.factories import CatalogueItemFactory, PointOfPresenceFactory, SiteFactory, WorkshopFactory

pytestmark = pytest.mark.django_db

# The project keeps its own copy of the national schema (LaMednum/standard-mediation-num v1.0.2).
SCHEMA_FILE = Path(settings.BASE_DIR) / "mediators" / "data" / "standard-mediation-num-schema.json"


def qualified_point(**kwargs):
    point = PointOfPresenceFactory(site=SiteFactory(qualified=True), **kwargs)
    CatalogueItemFactory(site=point.site)
    return point


@pytest.mark.parametrize("status", [s for s in QualificationStatus.values if s != QualificationStatus.QUALIFIED])
def test_only_qualified_sites_appear_in_finder_and_export(client, status):
    shown = qualified_point(name="Lieu qualifié")
    hidden = PointOfPresenceFactory(site=SiteFactory(status=status), name="Lieu caché")
    closed = PointOfPresenceFactory(site=shown.site, name="Lieu fermé", is_active=False)
    page = client.get(reverse("mediators:finder"))
    assert [p.pk for p in page.context["page"]] == [shown.pk]
    assert client.get(reverse("mediators:public_point", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("mediators:public_point", args=[closed.pk])).status_code == 404
    assert client.get(reverse("mediators:public_point", args=[shown.pk])).status_code == 200
    data = client.get("/api/v1/sites").json()
    assert [row["nom"] for row in data] == ["Lieu qualifié"]
    assert "Lieu caché" not in client.get("/api/v1/sites.csv").content.decode()


def test_suspended_site_disappears_with_its_workshops(client, operator_user):
    from mediators.qualification import services

    workshop = WorkshopFactory()
    CatalogueItemFactory(site=workshop.site)
    assert client.get(reverse("mediators:public_workshops")).context["page"].paginator.count == 1
    services.suspend(site=workshop.site, by=operator_user, reason="Contrôle")
    assert client.get(reverse("mediators:public_workshops")).context["page"].paginator.count == 0
    assert client.get(reverse("mediators:finder")).context["page"].paginator.count == 0
    assert client.get("/api/v1/sites").json() == []


def test_finder_filters(client):
    talence = qualified_point(name="Talence", wheelchair_accessible=True)
    toulouse = qualified_point(
        name="Toulouse", postcode="31000", insee_code="31555", commune="Toulouse", latitude="43.6", longitude="1.44"
    )
    from mediators.models import SiteAudience

    SiteAudience.objects.create(site=toulouse.site, audience="seniors")
    WorkshopFactory(site=talence.site, point_of_presence=talence)

    def names(**params):
        response = client.get(reverse("mediators:finder"), params)
        assert response.status_code == 200
        return [p.name for p in response.context["page"]]

    assert names(place="33400") == ["Talence"]
    assert names(place="toulou") == ["Toulouse"]
    assert names(place="31") == ["Toulouse"]
    assert names(audience="seniors") == ["Toulouse"]
    assert names(accessibility="wheelchair") == ["Talence"]
    assert names(workshops_soon="on") == ["Talence"]
    assert names(service="1", level="1") == ["Talence", "Toulouse"]
    assert names(service="2") == []
    assert names(level="3") == []
    # Bad input is not an error: the criteria are shown with their message, never a 500.
    response = client.get(reverse("mediators:finder"), {"service": "abc", "level": "9", "page": "zz"})
    assert response.status_code == 200


def test_finder_query_count_does_not_grow(client, django_assert_max_num_queries):
    for _ in range(3):
        WorkshopFactory(point_of_presence=qualified_point())
    with django_assert_max_num_queries(8):
        response = client.get(reverse("mediators:finder"))
    assert response.context["page"].paginator.count == 3
    for _ in range(10):
        WorkshopFactory(point_of_presence=qualified_point())
    with django_assert_max_num_queries(8):
        client.get(reverse("mediators:finder"))
    with django_assert_max_num_queries(6):
        client.get(reverse("mediators:public_workshops"))
    with django_assert_max_num_queries(6):
        client.get("/api/v1/sites.csv")


def test_open_data_csv_validates_against_the_national_schema(client, tmp_path):
    from mediators.models import SiteAudience

    point = qualified_point(hearing_support=True, is_mobile=True, phone="0690123456", address_complement="Étage 1")
    SiteAudience.objects.create(site=point.site, audience="youth")
    SiteAudience.objects.create(site=point.site, audience="job_seekers")
    qualified_point(
        phone="",
        email="",
        opening_hours="",
        postcode="20000",
        insee_code="2A004",
        commune="Ajaccio",
        latitude="41.9192",
        longitude="8.7386",
    )
    response = client.get("/api/v1/sites.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    path = tmp_path / "lieux.csv"
    path.write_bytes(response.content)
    schema = Schema.from_descriptor(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    report = Resource(path="lieux.csv", basepath=str(tmp_path), schema=schema).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = client.get("/api/v1/sites").json()
    assert len(rows) == 2
    first = next(row for row in rows if row["id"] == f"passnum-{point.pk}")
    assert first["telephone"] == "+590690123456"
    assert "Pass numérique" in first["autres_formations_labels"]
    assert "Pass numérique" in first["presentation_detail"]
    assert first["prise_en_charge_specifique"] == "Surdité"
    assert first["itinerance"] == "Itinérant"
    assert first["publics_specifiquement_adresses"] == "Jeunes"
    assert first["frais_a_charge"] == "Gratuit sous condition"


def test_open_data_is_public_and_ignores_tokens(client):
    qualified_point()
    response = client.get("/api/v1/sites", HTTP_AUTHORIZATION="Token nimportequoi", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")


def test_demo_sites_are_valid_and_idempotent(client):
    from django.core.management import call_command

    from mediators.models import PointOfPresence, Site, Workshop
    from mediators.places.services import check_point_of_presence

    call_command("demo", "--json", stdout=io.StringIO())
    counts = (Site.objects.count(), PointOfPresence.objects.count(), Workshop.objects.count())
    call_command("demo", "--json", stdout=io.StringIO())
    assert (Site.objects.count(), PointOfPresence.objects.count(), Workshop.objects.count()) == counts
    assert Site.objects.filter(status="qualified").count() >= 12
    assert Site.objects.filter(status="submitted").count() == 1
    assert Site.objects.filter(status="suspended").count() == 1
    talence = Site.objects.get(organisation__name="Espace numérique de Talence")
    assert talence.status == "qualified"
    for point in PointOfPresence.objects.all():
        check_point_of_presence(
            {
                f: str(getattr(point, f))
                for f in ("name", "address", "postcode", "commune", "insee_code", "latitude", "longitude", "phone")
            }
        )
    departments = {p.postcode[:2] for p in PointOfPresence.objects.visible_to_public()}
    assert departments == {"31", "33"}
    response = client.get("/api/v1/sites.csv")
    assert response.content.decode().count("\n") == PointOfPresence.objects.visible_to_public().count() + 1

"""Import of sites and points of presence: every bad line reported, nothing imported unless the
whole file is valid (the console's import-export resources, used directly)."""

import pytest
import tablib

from mediators.models import PointOfPresence, QualificationStatus, Site
from mediators.resources import PointOfPresenceResource, SiteResource
from passnum.organisations.models import Organisation
from passnum.organisations.validators import siret_from_prefix
from tests.mediators.factories import SiteFactory

pytestmark = pytest.mark.django_db

SITE_HEADERS = [
    "siret",
    "name",
    "address",
    "postcode",
    "city",
    "email",
    "legal_form",
    "sector",
    "presentation",
    "website",
    "status",
]
POINT_HEADERS = [
    "id",
    "siret",
    "name",
    "address",
    "address_complement",
    "postcode",
    "commune",
    "insee_code",
    "latitude",
    "longitude",
    "opening_hours",
    "phone",
    "email",
    "wheelchair_accessible",
    "hearing_support",
    "visual_support",
    "cognitive_support",
    "literacy_support",
    "is_mobile",
    "regulated_free",
    "is_active",
]


def site_row(siret, name="Asso", legal_form="association", sector="private", status="qualified"):
    return [siret, name, "1 rue X", "33400", "Talence", "", legal_form, sector, "", "", status]


def dataset(headers, rows):
    data = tablib.Dataset(headers=headers)
    for row in rows:
        data.append(row)
    return data


def test_site_import_reports_every_bad_line_and_writes_nothing():
    good = siret_from_prefix("444555660001")
    rows = [
        site_row(good),
        site_row("12345678000012"),
        site_row(siret_from_prefix("444555670001"), legal_form="club"),
        site_row(good, name="Doublon"),
        site_row(siret_from_prefix("444555680001"), legal_form="commune", sector="private"),
    ]
    result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=True)
    assert result.has_validation_errors()
    errors = {row.number: str(row.error) for row in result.invalid_rows}
    assert sorted(errors) == [2, 3, 4, 5]
    assert "Ligne 3 : SIRET" in errors[2] and "clé de contrôle" in errors[2]
    assert "Ligne 4 : forme juridique « club » inconnue" in errors[3]
    assert "Ligne 5 : le SIRET" in errors[4] and "ligne 2" in errors[4]
    assert "Ligne 6 :" in errors[5] and "secteur public" in errors[5]
    result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    assert not Site.objects.exists() and not Organisation.objects.exists()


def test_site_import_creates_organisations_and_sites():
    rows = [site_row(siret_from_prefix("444555660001")), site_row(siret_from_prefix("444555690001"), status="")]
    result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Site.objects.filter(status=QualificationStatus.QUALIFIED).count() == 1
    assert Site.objects.filter(status=QualificationStatus.DRAFT).count() == 1
    assert {o.kind for o in Organisation.objects.all()} == {"site"}
    export = SiteResource().export()
    assert export.headers == SITE_HEADERS and len(export) == 2


def test_point_import_checks_each_line():
    site = SiteFactory()
    siret = site.organisation.siret

    def point(**changes):
        values = {
            "id": "",
            "siret": siret,
            "name": "Lieu",
            "address": "1 rue X",
            "address_complement": "",
            "postcode": "33400",
            "commune": "Talence",
            "insee_code": "33522",
            "latitude": "44.8",
            "longitude": "-0.58",
            "opening_hours": "",
            "phone": "",
            "email": "",
            "wheelchair_accessible": "1",
            "hearing_support": "0",
            "visual_support": "0",
            "cognitive_support": "0",
            "literacy_support": "0",
            "is_mobile": "0",
            "regulated_free": "1",
            "is_active": "1",
        }
        values.update(changes)
        return [values[h] for h in POINT_HEADERS]

    rows = [
        point(),
        point(latitude="48.85", longitude="120"),
        point(insee_code="99999"),
        point(siret=siret_from_prefix("999888770001")),
    ]
    result = PointOfPresenceResource().import_data(dataset(POINT_HEADERS, rows), dry_run=False)
    errors = {row.number: str(row.error) for row in result.invalid_rows}
    assert sorted(errors) == [2, 3, 4]
    assert "Ligne 3 : latitude : Ces coordonnées sont hors de France" in errors[2]
    assert "Ligne 4 :" in errors[3] and "code INSEE" in errors[3]
    assert "Ligne 5 : aucune structure" in errors[4]
    assert not PointOfPresence.objects.exists()

    result = PointOfPresenceResource().import_data(
        dataset(POINT_HEADERS, [point(), point(name="Annexe")]), dry_run=False
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert sorted(site.points.values_list("name", flat=True)) == ["Annexe", "Lieu"]

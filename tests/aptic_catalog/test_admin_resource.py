"""The console's import-export resource, used directly: the console itself requires a second factor."""

import pytest
import tablib

from aptic_catalog.admin import ServiceAdmin
from aptic_catalog.models import Level, ReferentialVersion, Service, Subcategory, Theme
from aptic_catalog.resources import ServiceResource
from aptic_catalog.services import COLUMNS, ensure_referential_loaded
from tests.aptic_catalog.helpers import as_csv, bundled_lines, replace_cell


def dataset(lines):
    return tablib.Dataset().load(as_csv(lines), format="csv")


@pytest.mark.django_db
def test_resource_import_with_a_bad_row_writes_nothing():
    lines = bundled_lines()
    lines[3] = replace_cell(lines[3], 0, "trois")

    result = ServiceResource().import_data(dataset(lines), dry_run=False)

    assert result.has_validation_errors()
    assert [row.number for row in result.invalid_rows] == [3]
    assert "Ligne 4 : le code « trois » n'est pas un nombre entier." in str(result.invalid_rows[0].error)
    assert Service.objects.count() == 0
    assert Level.objects.count() == 0
    assert Subcategory.objects.count() == 0
    assert Theme.objects.count() == 0
    assert ReferentialVersion.objects.count() == 0


@pytest.mark.django_db
def test_resource_import_with_a_bad_row_keeps_the_existing_referential():
    ensure_referential_loaded()
    lines = bundled_lines()
    lines[1] = replace_cell(lines[1], 1, "Titre changé")
    lines[2] = replace_cell(lines[2], 4, "2.1")

    result = ServiceResource().import_data(dataset(lines), dry_run=False)

    assert result.has_validation_errors()
    assert Service.objects.get(code=1).title == "Composantes et facettes de l’identité numérique"
    assert ReferentialVersion.objects.count() == 1


@pytest.mark.django_db
def test_resource_import_with_a_missing_column_writes_nothing():
    lines = [",".join(line.split(",")[:2]) for line in bundled_lines()[:3]]

    result = ServiceResource().import_data(dataset(lines), dry_run=False)

    assert result.has_errors()
    assert Service.objects.count() == 0
    assert ReferentialVersion.objects.count() == 0


@pytest.mark.django_db
def test_resource_dry_run_writes_nothing():
    result = ServiceResource().import_data(dataset(bundled_lines()), dry_run=True)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert result.totals["new"] == 129
    assert Service.objects.count() == 0
    assert ReferentialVersion.objects.count() == 0


@pytest.mark.django_db
def test_resource_import_creates_the_referential_and_a_version(django_user_model):
    operator = django_user_model.objects.create_user(email="ops@example.org", password="x-long-password-1")

    result = ServiceResource().import_data(
        dataset(bundled_lines()), dry_run=False, user=operator, file_name="aptic_services.csv"
    )

    assert not result.has_errors() and not result.has_validation_errors()
    assert Level.objects.count() == 3
    assert Subcategory.objects.count() == 9
    assert Service.objects.count() == 129
    assert Service.objects.get(code=42).subcategory.code == "2.1"
    version = ReferentialVersion.objects.get()
    assert version.number == 1
    assert version.imported_by == operator
    assert version.source_name == "aptic_services.csv"
    assert version.row_count == 129


@pytest.mark.django_db
def test_partial_console_import_updates_and_reactivates_only_its_services():
    ensure_referential_loaded()
    Service.objects.filter(code__in=[1, 2]).update(is_active=False)
    lines = bundled_lines()[:2]  # header and service 1
    lines[1] = replace_cell(lines[1], 1, "Nouveau titre du service 1")

    result = ServiceResource().import_data(dataset(lines), dry_run=False, file_name="correction.csv")

    assert not result.has_errors() and not result.has_validation_errors()
    service_1 = Service.objects.get(code=1)
    assert service_1.title == "Nouveau titre du service 1"
    assert service_1.is_active
    assert not Service.objects.get(code=2).is_active, "services absent from a console import are left alone"
    assert Service.objects.filter(is_active=True).count() == 128
    assert list(ReferentialVersion.objects.values_list("number", flat=True)) == [2, 1]


@pytest.mark.django_db
def test_resource_export_has_the_csv_columns():
    ensure_referential_loaded()

    exported = ServiceResource().export()

    assert tuple(exported.headers) == COLUMNS
    assert len(exported) == 129
    first = dict(zip(exported.headers, exported[0], strict=True))
    assert first["code"] == "1"
    assert first["subcategory"] == "1.1"
    assert first["level"] == "1"


def test_services_cannot_be_deleted_from_the_console(rf):
    from django.contrib.admin.sites import site

    assert ServiceAdmin(Service, site).has_delete_permission(rf.get("/")) is False

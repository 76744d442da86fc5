"""The public finder's map (data for static/js/finder-map.js, CSP of the tile server) and its
accent- and case-insensitive commune search, on PostgreSQL and on SQLite."""

import json
import re

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.db.models import Value
from django.db.models.sql import Query
from django.urls import reverse

from mediators.places import selectors
from mediators.places.search import Folded, fold
from passnum.settings import map_tile_source
from tests.mediators.factories import CatalogueItemFactory, PointOfPresenceFactory, SiteFactory, WorkshopFactory

pytestmark = pytest.mark.django_db


def qualified_point(**kwargs):
    point = PointOfPresenceFactory(site=SiteFactory(qualified=True), **kwargs)
    CatalogueItemFactory(site=point.site)
    return point


def map_data(response):
    match = re.search(r'<script id="finder-map-data" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(match.group(1)) if match else None


# --- the map -----------------------------------------------------------------------------------


def test_finder_gives_the_map_its_points_and_keeps_the_list(client):
    talence = qualified_point(name="Médiathèque <b>Talence</b>")
    hidden = PointOfPresenceFactory(site=SiteFactory(), name="Lieu non qualifié")
    response = client.get(reverse("mediators:finder"))
    page = response.content.decode()
    data = map_data(response)
    assert data["tiles"] == {"url": settings.PASSNUM_MAP_TILE_URL, "attribution": settings.PASSNUM_MAP_ATTRIBUTION}
    assert data["points"] == [
        {
            "id": talence.pk,
            "name": "Médiathèque <b>Talence</b>",
            "commune": "Talence",
            "postcode": "33400",
            "lat": 44.8083,
            "lon": -0.588,
            "url": reverse("mediators:public_point", args=[talence.pk]),
            "in_page": True,
        }
    ]
    assert hidden.name not in page
    # Progressive enhancement: the map section is hidden until the script shows it; the list is
    # there, each place with an anchor the map's bubbles link to.
    assert '<section id="finder-map-section" class="finder-map-section" aria-labelledby="map-title" hidden>' in page
    assert 'href="#results-title"' in page and f'id="lieu-{talence.pk}"' in page
    assert "<b>Talence</b>" not in page  # escaped in the list and in the JSON
    for asset in ("vendor/leaflet/leaflet.css", "vendor/leaflet/leaflet.js", "js/finder-map.js"):
        assert f"{settings.STATIC_URL}{asset}" in page
    assert "<script>" not in page  # no inline script (CSP): the data is JSON


def test_map_shows_every_result_not_only_the_page(client):
    for _ in range(23):
        qualified_point()
    response = client.get(reverse("mediators:finder"))
    data = map_data(response)
    assert len(response.context["page"]) == 20
    assert len(data["points"]) == 23
    assert sum(point["in_page"] for point in data["points"]) == 20
    assert not response.context["map_truncated"]


def test_map_follows_the_criteria_and_is_left_out_without_results(client):
    qualified_point(name="Talence")
    qualified_point(name="Toulouse", postcode="31000", insee_code="31555", commune="Toulouse", latitude="43.6")
    data = map_data(client.get(reverse("mediators:finder"), {"place": "31000"}))
    assert [point["name"] for point in data["points"]] == ["Toulouse"]
    response = client.get(reverse("mediators:finder"), {"place": "75001"})
    assert map_data(response) is None
    page = response.content.decode()
    assert "finder-map" not in page and "leaflet" not in page
    assert "Aucun lieu ne correspond" in page


def test_map_is_capped_and_says_so(client):
    for _ in range(4):
        qualified_point()
    markers, truncated = selectors.map_points(selectors.find_points(), limit=3)
    assert len(markers) == 3 and truncated
    markers, truncated = selectors.map_points(selectors.find_points(), limit=4)
    assert len(markers) == 4 and not truncated


def test_no_map_without_a_tile_server(client, settings):
    settings.PASSNUM_MAP_TILE_URL = ""
    qualified_point()
    response = client.get(reverse("mediators:finder"))
    assert response.status_code == 200
    assert map_data(response) is None and "leaflet" not in response.content.decode()
    assert len(response.context["page"]) == 1


def test_finder_with_map_keeps_a_constant_number_of_queries(client, django_assert_max_num_queries):
    for _ in range(3):
        WorkshopFactory(point_of_presence=qualified_point())
    with django_assert_max_num_queries(8):
        client.get(reverse("mediators:finder"))
    for _ in range(10):
        WorkshopFactory(point_of_presence=qualified_point())
    with django_assert_max_num_queries(8):
        response = client.get(reverse("mediators:finder"))
    assert len(map_data(response)["points"]) == 13


def test_csp_lets_the_map_load_its_tiles(client):
    qualified_point()
    policy = client.get(reverse("mediators:finder"))["Content-Security-Policy"]
    img_src = next(part for part in policy.split(";") if part.strip().startswith("img-src")).split()
    assert "'self'" in img_src
    assert map_tile_source(settings.PASSNUM_MAP_TILE_URL) in img_src
    assert "script-src 'self'" in policy  # the map's script is a file, nothing inline


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tile-{s}.example.fr/carte/{z}/{x}/{y}.png?cle=1", "https://*.example.fr"),
        ("https://tuiles.example.fr:8443/{z}/{x}/{y}.png", "https://tuiles.example.fr:8443"),
        ("/tuiles/{z}/{x}/{y}.png", None),
        ("", None),
    ],
)
def test_map_tile_source(url, source):
    assert map_tile_source(url) == source


# --- accent- and case-insensitive commune search -------------------------------------------------


def test_commune_search_ignores_accents_case_and_hyphens(client):
    qualified_point(name="Saint-Étienne", postcode="42000", insee_code="42218", commune="Saint-Étienne")
    qualified_point(name="Évreux", postcode="27000", insee_code="27229", commune="Évreux", latitude="49.02")
    qualified_point(name="L'Haÿ", postcode="94240", insee_code="94038", commune="L'Haÿ-les-Roses")
    qualified_point(name="Œuilly", postcode="51480", insee_code="51414", commune="Œuilly")
    qualified_point(name="Talence")

    def names(place):
        response = client.get(reverse("mediators:finder"), {"place": place})
        assert response.status_code == 200
        return [point.name for point in response.context["page"]]

    for query in ("Saint-Etienne", "saint etienne", "SAINT-ÉTIENNE", "etienne", "Saint-Étienne", "saint-éti"):
        assert names(query) == ["Saint-Étienne"], query
    for query in ("evreux", "EVREUX", "Évreux", "évr"):
        assert names(query) == ["Évreux"], query
    assert names("l'hay-les-roses") == names("L’Haÿ les roses") == names("hay") == ["L'Haÿ"]
    assert names("oeuilly") == names("ŒUILLY") == ["Œuilly"]
    assert names("talence") == ["Talence"]
    assert names("Lyon") == []
    # LIKE's wild cards are plain characters in a commune name.
    assert names("%") == [] and names("_") == []


def test_workshop_search_ignores_accents_too(client):
    point = qualified_point(name="Évreux", postcode="27000", insee_code="27229", commune="Évreux", latitude="49.02")
    WorkshopFactory(site=point.site, point_of_presence=point)
    response = client.get(reverse("mediators:public_workshops"), {"place": "evreux"})
    assert response.context["page"].paginator.count == 1
    response = client.get(reverse("mediators:public_workshops"), {"place": "talence"})
    assert response.context["page"].paginator.count == 0


NAMES = [
    "Saint-Étienne",
    "ÉVREUX",
    "L'Haÿ-les-Roses",
    "L’Île-Saint-Denis",
    "Œuilly",
    "Bourg-en-Bresse",
    "Châlons-en-Champagne",
    "Gruissan",
    "Saint-Jean-de-Luz",
    "Aÿ-Champagne",
    "Cæstre",
    "Pont-Sainte-Maxence",
    "Ménil-Hubert-en-Exmes",
    "Plœmeur",
    "Nîmes",
    "Ürschenheim",
    "ÇA",
]


def _fold_in_database(wrapper, text):
    query = Query(None)
    compiler = query.get_compiler(connection=wrapper)
    sql, params = compiler.compile(Folded(Value(text)).resolve_expression(query))
    with wrapper.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return cursor.fetchone()[0]


@pytest.fixture
def sqlite():
    """An in-memory SQLite database: the embedded default folds names like PostgreSQL."""
    wrapper = SQLiteWrapper(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "OPTIONS": {},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias="sqlite_fold_test",
    )
    yield wrapper
    wrapper.close()


@pytest.mark.parametrize("name", NAMES)
def test_database_folds_like_python_on_postgresql_and_sqlite(name, sqlite):
    assert connection.vendor == "postgresql"
    folded = fold(name)
    assert folded.isascii() and folded == folded.lower()
    assert _fold_in_database(connection, name) == folded
    assert _fold_in_database(sqlite, name) == folded


def test_fold():
    assert fold("Saint-Étienne") == fold("saint etienne") == fold("  SAINT -  ETIENNE ") == "saint etienne"
    assert fold("L’Haÿ-les-Roses") == "l hay les roses"
    assert fold("Œuilly") == "oeuilly"
    assert fold("") == fold(None) == ""

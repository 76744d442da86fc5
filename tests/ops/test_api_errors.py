"""Under /api/ every error is the API's JSON ``{"error": {"code", "message"}}``, never an HTML
page — 404, 405, 500 and 503 included; elsewhere, French pages."""

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ops.urls")]


@pytest.fixture
def client():
    return Client(raise_request_exception=False)  # as in production: the handlers answer


def error_of(response):
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    error = response.json()["error"]
    assert error["message"] and error["code"]
    return error["code"]


def test_unknown_api_route_is_a_json_404(client):
    response = client.get("/api/v1/nulle-part")
    assert response.status_code == 404 and error_of(response) == "not_found"


def test_wrong_method_is_a_json_405_on_drf_and_plain_views(client):
    response = client.put("/api/v1/auth/token/", {}, content_type="application/json")
    assert response.status_code == 405 and error_of(response) == "method_not_allowed"
    response = client.get("/api/v1/test/post-only")
    assert response.status_code == 405 and error_of(response) == "method_not_allowed"
    assert response["Allow"] == "POST"


def test_a_crash_is_a_json_500_under_api_and_a_french_page_elsewhere(client):
    response = client.get("/api/v1/test/boom")
    assert response.status_code == 500 and error_of(response) == "server_error"
    page = client.get("/test/boom")
    assert page.status_code == 500 and "Une erreur est survenue" in page.content.decode()


def test_a_lost_database_is_a_503_to_retry(client):
    response = client.post("/api/v1/test/db")
    assert response.status_code == 503 and error_of(response) == "database_unavailable"
    assert response["Retry-After"] == "5"
    page = client.get("/test/db")
    assert page.status_code == 503 and "Service momentanément indisponible" in page.content.decode()
    assert page["Retry-After"] == "5"


def test_healthz_is_503_only_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError, connection

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"
    assert response.json()["database"] == "error"

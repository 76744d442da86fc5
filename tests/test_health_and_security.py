import pytest
from django.urls import reverse

from passnum.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok", "outbox": 0}


def test_healthz_is_degraded_not_down_when_the_broker_is_down(client, monkeypatch):
    # Scanning goes on without the broker (tasks wait in the outbox): 200 "degraded", not 503.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and response.json()["broker"] == "error"


def test_security_headers_on_every_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_home_page_explains_the_pass_in_french(client):
    response = client.get(reverse("home"))
    content = response.content.decode()
    assert '<html lang="fr">' in content
    assert "Aller au contenu" in content
    assert "Pass numérique" in content

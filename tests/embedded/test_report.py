"""The programme's report on the embedded default (SQLite): its tables, charts' data, territory
filter and alerts are read with the same queries (the join of redemptions to the people's
communes included)."""

import json
import re

import pytest
from django.urls import reverse

from passnum.accounts.models import User
from sponsors.models import Programme

pytestmark = [pytest.mark.embedded, pytest.mark.django_db]


def test_the_programme_page_shows_its_report_on_sqlite(demo, client):
    user = User.objects.get(email="commanditaire@demo.passnum.fr")
    client.force_login(user)
    programme = Programme.objects.filter(sponsor__memberships__user=user).order_by("pk").first()
    url = reverse("sponsors:programme", kwargs={"pk": programme.pk})
    for params in ({}, {"territoire": "33"}, {"territoire": "33063"}, {"territoire": "00000"}):
        response = client.get(url, params)
        html = response.content.decode()
        assert response.status_code == 200, params
        assert "Encaissements par département et commune de la personne" in html
        charts = re.search(r'<script id="report-charts-data" type="application/json">(.*?)</script>', html)
        assert any(chart["id"] == "chart-passes" for chart in json.loads(charts[1]))
    assert "ni un département ni une commune connus" in html.replace("&#x27;", "'")

"""On the embedded default (SQLite), the programme report counts the demo's hand-overs by
audience code and by age band: the same GROUP BY on the stored list of codes as on PostgreSQL."""

import pytest
from django.urls import reverse

from beneficiaries.models import Beneficiary
from passnum.organisations.enums import Role
from sponsors.models import Programme
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.embedded, pytest.mark.django_db]


def test_the_demo_programme_report_counts_hand_overs_by_audience_code_and_age_band(client, demo):
    programme = Programme.objects.get(prefix="GIRB")
    # The demo gives labels to the services: codes are stored.
    assert programme.audiences == ["seniors", "job_seekers", "youth"]
    stored = {code for codes in Beneficiary.objects.values_list("audiences", flat=True) for code in codes}
    assert stored <= {"seniors", "job_seekers", "youth"}
    client.force_login(MembershipFactory(organisation=programme.sponsor, role=Role.MEMBER).user)
    response = client.get(reverse("sponsors:programme", kwargs={"pk": programme.pk}))
    assert response.status_code == 200
    report = response.context["report"]
    labels = [row["label"] for row in report["by_audience"]["rows"]]
    assert labels[:3] == ["Seniors", "Demandeurs d'emploi", "Jeunes de 16 à 25 ans"]
    assert report["by_audience"]["total"] is None
    assert report["by_age_band"]["total"]["count"] == report["by_department"]["total"]["count"] > 0
    assert "Seniors, Demandeurs d&#x27;emploi, Jeunes de 16 à 25 ans" in response.content.decode()

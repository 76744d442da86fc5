"""The operator closes a month, voids a statement with a reason and adds an adjustment from the
admin."""

import pytest
from django.urls import reverse

from clearing.models import Adjustment, Statement, StatementStatus
from passnum.audit.models import AuditLog
from tests.clearing.factories import paris, redeeming_site, redemptions_in

pytestmark = pytest.mark.django_db


def test_close_void_and_adjust_from_the_admin(client, operator_user, django_capture_on_commit_callbacks):
    place = redeeming_site()
    redemptions_in(place, paris(2026, 10, 5), count=2)
    client.force_login(operator_user)
    changelist = reverse("admin:clearing_statement_changelist")
    assert "Clore un mois" in client.get(changelist).content.decode()

    close_url = reverse("admin:clearing_statement_close_month")
    refused = client.post(close_url, {"month": "2999-01"})
    assert "pas terminé" in refused.content.decode() and not Statement.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(close_url, {"month": "2026-10"})
    assert response.status_code == 302
    statement = Statement.objects.get(site=place.site)
    assert statement.pdf

    asked = client.post(changelist, {"action": "void", "_selected_action": [statement.pk]})
    assert "Motif de l" in asked.content.decode()
    response = client.post(
        changelist,
        {"action": "void", "_selected_action": [statement.pk], "reason": "Mauvaise structure", "confirm": "yes"},
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.status == StatementStatus.VOIDED
    assert AuditLog.objects.filter(action="clearing.statement.status", target_id=str(statement.pk)).exists()

    add = reverse("admin:clearing_adjustment_add")
    too_much = client.post(add, {"site": place.site.pk, "amount_euros": "-100,00", "reason": "Reprise"})
    assert "négatif" in too_much.content.decode() and not Adjustment.objects.exists()
    response = client.post(add, {"site": place.site.pk, "amount_euros": "-5,50", "reason": "Reprise partielle"})
    assert response.status_code == 302
    assert Adjustment.objects.get().amount_cents == -550
    assert client.get(reverse("admin:clearing_adjustment_changelist")).status_code == 200

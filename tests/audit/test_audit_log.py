import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from passnum.audit.models import AuditLog
from passnum.audit.services import record
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_update_and_delete():
    entry = record("test.action", organisation=OrganisationFactory(), after={"a": 1})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(action="falsifié")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.action == "test.action"


def test_admin_shows_the_log_read_only(client, operator_user):
    entry = record("test.action", actor=operator_user, after={"a": 1})
    client.force_login(operator_user)
    changelist = client.get(reverse("admin:audit_auditlog_changelist"))
    assert changelist.status_code == 200
    assert "test.action" in changelist.content.decode()
    assert client.get(reverse("admin:audit_auditlog_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditlog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    detail = client.post(reverse("admin:audit_auditlog_change", args=[entry.pk]), {"action": "x"})
    assert detail.status_code == 403
    entry.refresh_from_db()
    assert entry.action == "test.action"


def test_admin_changes_are_audited(client, operator_user):
    organisation = OrganisationFactory(name="Avant")
    client.force_login(operator_user)
    url = reverse("admin:organisations_organisation_change", args=[organisation.pk])
    data = {
        "kind": organisation.kind,
        "name": "Après",
        "siret": organisation.siret,
        "address": "",
        "postcode": "",
        "city": "",
        "email": "",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditLog.objects.get(action="admin.organisation.changed")
    assert entry.before["name"] == "Avant" and entry.after["name"] == "Après"
    assert entry.actor_email == operator_user.email

"""The programme setting ``requires_beneficiary_name``: sponsor's form, detail page, audit, admin."""

import pytest
from django.urls import reverse
from django.utils import timezone

from passnum.audit.models import AuditLog
from sponsors.models import Programme
from tests.factories import OrganisationFactory
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sponsor():
    return OrganisationFactory(sponsor=True)


@pytest.fixture
def sponsor_client(client, member_of, sponsor):
    client.force_login(member_of(sponsor, role="admin"))
    return client


def form_data(**overrides):
    data = {
        "name": "Pass Gironde",
        "prefix": "GIRN",
        "face_value_euros": "10",
        "passes_per_booklet": "10",
        "valid_until": f"31/12/{timezone.localdate().year + 1}",
        "grace_months": "1",
        "grace_days": "0",
        "departments": "33",
    }
    data.update(overrides)
    return data


def test_default_is_no_name():
    assert Programme._meta.get_field("requires_beneficiary_name").default is False
    assert ProgrammeFactory().requires_beneficiary_name is False


def test_sponsor_sets_and_clears_it_in_the_programme_form(sponsor_client, sponsor):
    page = sponsor_client.get(reverse("sponsors:programme_create")).content.decode()
    assert "Demander le nom du bénéficiaire au guichet" in page
    response = sponsor_client.post(reverse("sponsors:programme_create"), form_data(requires_beneficiary_name="on"))
    assert response.status_code == 302
    programme = Programme.objects.get()
    assert programme.requires_beneficiary_name is True
    detail = sponsor_client.get(reverse("sponsors:programme", args=[programme.pk])).content.decode()
    assert "nom du bénéficiaire demandé" in detail
    created = AuditLog.objects.get(action="sponsors.programme.created")
    assert created.after["requires_beneficiary_name"] is True

    edit = reverse("sponsors:programme_edit", args=[programme.pk])
    assert sponsor_client.get(edit).context["form"].initial["requires_beneficiary_name"] is True
    assert sponsor_client.post(edit, form_data()).status_code == 302
    programme.refresh_from_db()
    assert programme.requires_beneficiary_name is False
    changed = AuditLog.objects.get(action="sponsors.programme.changed")
    assert (changed.before["requires_beneficiary_name"], changed.after["requires_beneficiary_name"]) == (True, False)
    assert (
        "aucun nom enregistré"
        in sponsor_client.get(reverse("sponsors:programme", args=[programme.pk])).content.decode()
    )


def test_admin_shows_and_filters_it(client, operator_user):
    programme = ProgrammeFactory(requires_beneficiary_name=True)
    client.force_login(operator_user)
    change = client.get(reverse("admin:sponsors_programme_change", args=[programme.pk]))
    assert change.status_code == 200 and 'name="requires_beneficiary_name"' in change.content.decode()
    changelist = client.get(reverse("admin:sponsors_programme_changelist"), {"requires_beneficiary_name__exact": "1"})
    assert changelist.status_code == 200 and programme.name in changelist.content.decode()

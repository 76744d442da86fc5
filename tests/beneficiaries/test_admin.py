import pytest
from django.urls import reverse

from passnum.audit.models import AuditLog
from tests.beneficiaries.factories import BeneficiaryFactory

pytestmark = pytest.mark.django_db


def test_every_staff_view_of_personal_data_is_audited(client, operator_user):
    beneficiary = BeneficiaryFactory(with_contact=True)
    client.force_login(operator_user)
    response = client.get(reverse("admin:beneficiaries_beneficiary_changelist"))
    assert response.status_code == 200
    response = client.get(reverse("admin:beneficiaries_beneficiary_change", args=[beneficiary.pk]))
    assert response.status_code == 200 and "camille@exemple.fr" in response.content.decode()
    entries = AuditLog.objects.filter(action="beneficiary.viewed").order_by("pk")
    assert [e.after["view"] for e in entries] == ["list", "detail"]
    assert entries[1].target_id == str(beneficiary.pk) and entries[1].actor == operator_user
    assert entries[1].organisation_id == beneficiary.created_by_id

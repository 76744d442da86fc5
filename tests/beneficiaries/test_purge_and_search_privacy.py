"""Personal data does not outlive the purge: neither an exception's free-text reason nor the
terms staff typed in the beneficiaries' search."""

from datetime import date

import pytest

from beneficiaries import services
from beneficiaries.models import HandOver
from passnum.audit.models import AuditLog
from sponsors.models import Programme
from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

REASON = "Mme Durand, 12 rue des Lilas, hébergée chez sa fille après son expulsion"


def test_the_purge_erases_the_reason_of_an_exception(settings):
    settings.PASSNUM_PERSONAL_DATA_RETENTION_DAYS = 30
    prescriber = OrganisationFactory(prescriber=True)
    booklet = booklets_in_stock(prescriber, count=1, valid_until=date(2020, 12, 31))[0]
    Programme.objects.filter(pk=booklet.programme_id).update(valid_until=date(2099, 1, 1))
    handover, _ = services.hand_over(prescriber, booklet.serial, BENEFICIARY)
    Programme.objects.filter(pk=booklet.programme_id).update(valid_until=date(2020, 12, 31))
    # An exception granted at the counter, with its reason typed in free text.
    HandOver.objects.filter(pk=handover.pk).update(is_exception=True, exception_reason=REASON)
    assert services.purge_personal_data() == 1
    handover.refresh_from_db()
    assert handover.is_exception and REASON not in handover.exception_reason
    assert handover.exception_reason == services.PURGED_EXCEPTION_REASON


def test_staff_searches_are_logged_without_their_terms(client, operator_user):
    client.force_login(operator_user)
    response = client.get("/admin/beneficiaries/beneficiary/", {"q": "camille.durand@exemple.fr"})
    assert response.status_code == 200
    entry = AuditLog.objects.get(action="beneficiary.viewed")
    assert entry.after["searched"] is True
    assert "camille" not in str(entry.after) and "durand" not in str(entry.after).lower()

"""The operator verifies the very version of a payee account they were shown."""

import pytest

from clearing.payees import services
from clearing.payees.models import PayeeAccount, PayeeKind, PayeeStatus
from tests.clearing.payees.factories import VALID_BIC, VALID_IBAN
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

URL = "/admin/payees/payeeaccount/"
OTHER_IBAN = "FR1420041010050500013M02606"


def _set(organisation, iban, holder="Asso du quartier"):
    return services.set_payee_account(
        organisation=organisation, by=None, payee_kind=PayeeKind.SELF, holder_name=holder, iban=iban, bic=VALID_BIC
    )


def test_the_action_first_shows_the_exact_account_then_verifies_that_version(client, operator_user):
    account = _set(OrganisationFactory(site=True), VALID_IBAN)
    client.force_login(operator_user)
    page = client.post(URL, {"action": "verify", "_selected_action": [account.pk]})
    assert page.status_code == 200
    assert account.iban in page.content.decode() and "Asso du quartier" in page.content.decode()
    account.refresh_from_db()
    assert account.status == PayeeStatus.TO_VERIFY  # nothing verified before the confirmation
    done = client.post(
        URL, {"action": "verify", "_selected_action": [account.pk], "version": [account.pk], "confirm": "yes"}
    )
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.status == PayeeStatus.VERIFIED and account.verified_by == operator_user


def test_a_version_replaced_after_the_confirmation_page_is_not_verified(client, operator_user):
    organisation = OrganisationFactory(site=True)
    shown = _set(organisation, VALID_IBAN)
    client.force_login(operator_user)
    client.post(URL, {"action": "verify", "_selected_action": [shown.pk]})
    newer = _set(organisation, OTHER_IBAN, holder="Quelqu'un d'autre")  # changed meanwhile
    client.post(URL, {"action": "verify", "_selected_action": [shown.pk], "version": [shown.pk], "confirm": "yes"})
    assert set(PayeeAccount.objects.filter(organisation=organisation).values_list("pk", "status")) == {
        (shown.pk, PayeeStatus.TO_VERIFY),
        (newer.pk, PayeeStatus.TO_VERIFY),
    }

"""Payee accounts: checked bank details, one version per change, verification by the operator,
and bank details the database itself refuses to rewrite or delete."""

import pytest
from django.db import IntegrityError, ProgrammingError, transaction

from clearing.payees import selectors, services
from clearing.payees.models import PayeeAccount, PayeeKind, PayeeStatus
from clearing.payees.validators import PayeeError
from passnum.audit.models import AuditLog
from tests.clearing.payees.factories import VALID_BIC, VALID_IBAN, PayeeAccountFactory
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def set_account(organisation, **changes):
    data = {"payee_kind": PayeeKind.SELF, "holder_name": "Asso", "iban": VALID_IBAN, "bic": VALID_BIC}
    data.update(changes)
    return services.set_payee_account(organisation=organisation, by=None, **data)


@pytest.mark.parametrize(
    ("iban", "bic", "code", "field"),
    [
        ("FR7630006000011234567890188", VALID_BIC, "iban_invalid", "iban"),
        ("FR76300060000112345", VALID_BIC, "iban_invalid", "iban"),
        ("BR1800360305000010009795493C1", "BRASBRRJXXX", "iban_not_sepa", "iban"),
        (VALID_IBAN, "AGRI FR", "bic_invalid", "bic"),
        (VALID_IBAN, "DEUTDEFFXXX", "bic_iban_mismatch", "bic"),
    ],
)
def test_bad_bank_details_are_refused_and_nothing_is_written(iban, bic, code, field):
    organisation = OrganisationFactory(site=True)
    with pytest.raises(PayeeError) as error:
        set_account(organisation, iban=iban, bic=bic)
    assert (error.value.code, error.value.field) == (code, field)
    assert PayeeAccount.objects.filter(organisation=organisation).count() == 0


def test_a_public_treasurer_only_when_the_caller_allows_it():
    with pytest.raises(PayeeError) as error:
        set_account(OrganisationFactory(site=True), payee_kind=PayeeKind.TREASURER_REGIE)
    assert error.value.code == "payee_kind_not_allowed"
    account = services.set_payee_account(
        organisation=OrganisationFactory(site=True),
        by=None,
        payee_kind=PayeeKind.TREASURER_MANDATE,
        holder_name="DGFIP",
        iban=VALID_IBAN,
        bic=VALID_BIC,
        public_treasurer_allowed=True,
    )
    assert (account.version, account.status) == (1, PayeeStatus.TO_VERIFY)


def test_a_change_adds_a_version_to_verify_and_keeps_the_old_one(operator_user):
    account = PayeeAccountFactory()
    organisation = account.organisation
    with pytest.raises(PayeeError) as error:
        selectors.check_payee_payable(organisation=organisation)
    assert error.value.code == "payee_not_verified"
    services.verify_payee_account(account=account, by=operator_user)
    assert selectors.check_payee_payable(organisation=organisation).pk == account.pk

    # The same details again: nothing changes, still verified.
    same = set_account(organisation, holder_name=account.holder_name)
    assert same.pk == account.pk
    assert selectors.check_payee_payable(organisation=organisation).status == PayeeStatus.VERIFIED

    # A new IBAN: version 2, to verify; version 1 still readable as it was paid.
    new = set_account(
        organisation, holder_name=account.holder_name, iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX"
    )
    assert (new.version, new.status, new.iban) == (2, PayeeStatus.TO_VERIFY, "DE89370400440532013000")
    with pytest.raises(PayeeError):
        selectors.check_payee_payable(organisation=organisation)
    account.refresh_from_db()
    assert (account.is_current, account.status, account.iban) == (False, PayeeStatus.VERIFIED, VALID_IBAN)
    assert [a.version for a in selectors.payee_account_history(organisation=organisation)] == [2, 1]

    services.verify_payee_account(account=new, by=operator_user)
    assert selectors.check_payee_payable(organisation=organisation).version == 2
    assert AuditLog.objects.filter(action="payee_account.verified").count() == 2
    assert AuditLog.objects.filter(action="payee_account.changed", organisation_id=organisation.pk).count() == 1


def test_only_the_current_version_can_be_verified():
    account = PayeeAccountFactory()
    set_account(account.organisation, iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX")
    with pytest.raises(PayeeError) as error:
        services.verify_payee_account(account=account, by=None)
    assert error.value.code == "payee_version_replaced"
    account.refresh_from_db()
    assert account.status == PayeeStatus.TO_VERIFY


def test_the_database_refuses_to_rewrite_or_delete_bank_details():
    account = PayeeAccountFactory()
    with pytest.raises(ProgrammingError, match="Cannot update rows from payees_payeeaccount"), transaction.atomic():
        PayeeAccount.objects.filter(pk=account.pk).update(iban="DE89370400440532013000")
    with pytest.raises(ProgrammingError, match="Cannot delete rows from payees_payeeaccount"), transaction.atomic():
        PayeeAccount.objects.filter(pk=account.pk).delete()
    # The verification itself may change.
    PayeeAccount.objects.filter(pk=account.pk).update(status=PayeeStatus.VERIFIED)
    account.refresh_from_db()
    assert (account.iban, account.status) == (VALID_IBAN, PayeeStatus.VERIFIED)


def test_one_current_version_per_organisation_in_the_database():
    account = PayeeAccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PayeeAccountFactory(organisation=account.organisation, version=2)
    assert PayeeAccount.objects.filter(organisation=account.organisation).count() == 1

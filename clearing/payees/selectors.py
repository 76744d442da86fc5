"""Reads of payee accounts: the version in force, its history, and whether a payment may go to it."""

from clearing.payees.models import PayeeAccount
from clearing.payees.validators import PayeeError


def current_payee_account(*, organisation) -> PayeeAccount | None:
    return PayeeAccount.objects.filter(organisation=organisation, is_current=True).first()


def payee_account_history(*, organisation) -> list[PayeeAccount]:
    """Every version, the newest first."""
    return list(PayeeAccount.objects.filter(organisation=organisation).select_related("verified_by"))


def check_payee_payable(*, organisation) -> PayeeAccount:
    """No payment may go to an account the operator has not verified since its last change."""
    return _check_payable(current_payee_account(organisation=organisation))


def payable_accounts(*, organisation_ids) -> dict[int, "PayeeAccount | PayeeError"]:
    """``check_payee_payable`` for many organisations in one query: for each id, its verified
    account in force, or the refusal it would raise."""
    current = {
        account.organisation_id: account
        for account in PayeeAccount.objects.filter(organisation_id__in=set(organisation_ids), is_current=True)
    }
    verdicts = {}
    for organisation_id in set(organisation_ids):
        try:
            verdicts[organisation_id] = _check_payable(current.get(organisation_id))
        except PayeeError as error:
            verdicts[organisation_id] = error
    return verdicts


def _check_payable(account: PayeeAccount | None) -> PayeeAccount:
    if account is None:
        raise PayeeError("Cette organisation n'a pas indiqué de compte bancaire.", code="payee_missing")
    if not account.is_verified:
        raise PayeeError(
            "Le compte bancaire de cette organisation n'est pas encore vérifié par l'opérateur.",
            code="payee_not_verified",
        )
    return account

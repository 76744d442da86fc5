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
    account = current_payee_account(organisation=organisation)
    if account is None:
        raise PayeeError("Cette organisation n'a pas indiqué de compte bancaire.", code="payee_missing")
    if not account.is_verified:
        raise PayeeError(
            "Le compte bancaire de cette organisation n'est pas encore vérifié par l'opérateur.",
            code="payee_not_verified",
        )
    return account

"""Use cases of payee accounts: an organisation states the account it is paid on (each change a
new version, to be verified again), the operator verifies it."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from clearing.payees.models import PayeeAccount, PayeeKind, PayeeStatus
from clearing.payees.validators import PayeeError, check_bic, check_iban
from passnum.audit.services import record

ACCOUNT_FIELDS = ["version", "payee_kind", "holder_name", "iban", "bic", "status"]


def _as_dict(account: PayeeAccount | None) -> dict | None:
    return {field: getattr(account, field) for field in ACCOUNT_FIELDS} if account else None


def check_payee_kind(*, payee_kind: str, public_treasurer_allowed: bool) -> None:
    if payee_kind not in PayeeKind.values:
        raise PayeeError("Choisissez qui reçoit les virements.", code="payee_kind_invalid", field="payee_kind")
    if payee_kind != PayeeKind.SELF and not public_treasurer_allowed:
        raise PayeeError(
            "Seule une structure du secteur public peut être payée sur le compte de son comptable public "
            "(régie ou mandat).",
            code="payee_kind_not_allowed",
            field="payee_kind",
        )


@transaction.atomic
def set_payee_account(
    *,
    organisation,
    by,
    payee_kind: str,
    holder_name: str,
    iban: str,
    bic: str,
    public_treasurer_allowed: bool = False,
    request=None,
) -> PayeeAccount:
    """States the account ``organisation`` is paid on. The same details again change nothing;
    any other change adds a version, to be verified by the operator before any payment."""
    check_payee_kind(payee_kind=payee_kind, public_treasurer_allowed=public_treasurer_allowed)
    holder_name = (holder_name or "").strip()
    if not holder_name:
        raise PayeeError(
            "Indiquez le titulaire du compte, tel qu'il figure sur le RIB.", code="required", field="holder_name"
        )
    iban = check_iban(iban)
    bic = check_bic(bic, iban=iban)
    current = PayeeAccount.objects.select_for_update().filter(organisation=organisation, is_current=True).first()
    if current and (current.payee_kind, current.holder_name, current.iban, current.bic) == (
        payee_kind,
        holder_name,
        iban,
        bic,
    ):
        return current
    if current:
        current.is_current = False
        current.save(update_fields=["is_current"])
    try:
        with transaction.atomic():
            account = PayeeAccount.objects.create(
                organisation=organisation,
                version=(current.version + 1) if current else 1,
                payee_kind=payee_kind,
                holder_name=holder_name,
                iban=iban,
                bic=bic,
                status=PayeeStatus.TO_VERIFY,
                created_by=by,
            )
    except IntegrityError as exc:  # another change of the same organisation won the race
        raise PayeeError(
            "Le compte bancaire vient d'être modifié par ailleurs : rechargez la page et recommencez.",
            code="payee_changed_concurrently",
        ) from exc
    record(
        "payee_account.changed",
        actor=by,
        organisation=organisation,
        target=account,
        before=_as_dict(current),
        after=_as_dict(account),
        request=request,
    )
    return account


@transaction.atomic
def verify_payee_account(*, account: PayeeAccount, by, request=None) -> PayeeAccount:
    """The operator has checked the account (RIB, holder): payments may go to it. Only the
    current version can be verified: an older one was replaced by its organisation."""
    account = PayeeAccount.objects.select_for_update().select_related("organisation").get(pk=account.pk)
    if account.status == PayeeStatus.VERIFIED:
        return account
    if not account.is_current:
        raise PayeeError(
            "Cette version du compte a été remplacée : vérifiez la version en vigueur.", code="payee_version_replaced"
        )
    account.status = PayeeStatus.VERIFIED
    account.verified_at = timezone.now()
    account.verified_by = by
    account.save(update_fields=["status", "verified_at", "verified_by"])
    record(
        "payee_account.verified",
        actor=by,
        organisation=account.organisation,
        target=account,
        after=_as_dict(account),
        request=request,
    )
    return account


@transaction.atomic
def unverify_payee_account(*, account: PayeeAccount, reason: str, by, request=None) -> PayeeAccount:
    """The bank sent a payment back from this account: it is *to verify* again, so no batch pays it
    until the organisation gives a new account or the operator checks this one again. Only the
    version in force changes; an older one is already out of use."""
    account = PayeeAccount.objects.select_for_update().select_related("organisation").get(pk=account.pk)
    if not account.is_current or account.status != PayeeStatus.VERIFIED:
        return account
    before = _as_dict(account)
    account.status = PayeeStatus.TO_VERIFY
    account.save(update_fields=["status"])
    record(
        "payee_account.unverified",
        actor=by,
        organisation=account.organisation,
        target=account,
        before=before,
        after={**_as_dict(account), "reason": reason},
        request=request,
    )
    return account

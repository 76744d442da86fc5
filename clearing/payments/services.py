"""Use cases of payment batches: order a payout outside the statements (a grant's instalment, …),
make a batch of the statements and payout orders to pay (SEPA pain.001.001.03, to verified payee
accounts only), mark it sent then paid, record the bank's rejections, typed in or read from its
pain.002 status report.

Every write is one transaction and audited; every refusal is a ``PaymentError`` (a ``DomainError``)
raised before anything is kept. Statements move only through ``clearing.services.change_status``.
"""

import dataclasses
import datetime
import functools
import re
import secrets
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - the bank's file is checked for DTDs before parsing
from pathlib import Path
from zoneinfo import ZoneInfo

import sepaxml
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from sepaxml import SepaTransfer

from clearing.models import Statement, StatementStatus
from clearing.money import euros
from clearing.payees.selectors import payable_accounts
from clearing.payees.validators import PayeeError, check_bic, check_iban
from clearing.payments.models import (
    PAYOUT_PAYABLE_STATUSES,
    UNPAID_LINE_STATUSES,
    BatchStatus,
    LineStatus,
    PaymentBatch,
    PaymentBatchLine,
    PaymentBatchStatusChange,
    PayoutOrder,
    PayoutStatus,
)
from clearing.payments.reasons import REJECTION_REASONS, reason_label
from clearing.payments.signals import payouts_paid, payouts_returned, send_by_source
from passnum import mail
from passnum.audit.services import record
from passnum.errors import DomainError

PARIS = ZoneInfo("Europe/Paris")
PAIN001_SCHEMA = "pain.001.001.03"
PAIN002_NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:pain.002."
MAX_PAIN002_BYTES = 5 * 1024 * 1024
# Statuses from which a statement may join a batch: issued, or to pay again after a rejection.
PAYABLE_STATUSES = (StatementStatus.ISSUED, StatementStatus.TO_PAY)
BATCH_TRANSITIONS = {
    BatchStatus.DRAFT: {BatchStatus.SENT},
    BatchStatus.SENT: {BatchStatus.PAID},
    BatchStatus.PAID: set(),
}


class PaymentError(DomainError):
    code = "payment_refused"


# --- the operator's account ------------------------------------------------------------------


def debtor_account() -> dict:
    """The operator's account the transfers are paid from (settings), checked."""
    name = (settings.PASSNUM_DEBTOR_NAME or "").strip()
    if not name or not settings.PASSNUM_DEBTOR_IBAN:
        raise PaymentError(
            "Le compte bancaire de l'opérateur n'est pas configuré (PASSNUM_DEBTOR_NAME, PASSNUM_DEBTOR_IBAN) : "
            "aucun fichier de virements ne peut être préparé.",
            code="debtor_not_configured",
            status=503,
        )
    try:
        iban = check_iban(settings.PASSNUM_DEBTOR_IBAN)
        bic = check_bic(settings.PASSNUM_DEBTOR_BIC, iban=iban) if settings.PASSNUM_DEBTOR_BIC else ""
    except PayeeError as error:
        raise PaymentError(
            f"Le compte bancaire de l'opérateur est mal configuré : {error.message}", code="debtor_invalid", status=503
        ) from error
    return {"name": name[:70], "iban": iban, "bic": bic}


# --- payout orders (paid like statements, for other things owed) -----------------------------

# The characters every SEPA bank accepts in a reference (the EPC's restricted Latin set).
SEPA_TEXT = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
SOURCE_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PAYOUT_TERMS = ("organisation_id", "amount_cents", "reference", "label")


def sepa_text(value: str) -> str:
    """``value`` in the SEPA character set: accents dropped, other characters as spaces."""
    ascii_text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    return " ".join(SEPA_TEXT.sub(" ", ascii_text).split())


def check_payout_terms(*, amount_cents, source_kind, source_id, reference: str, label: str) -> tuple[str, str]:
    """What a payout order may say: a positive whole number of cents, a source named by its app,
    a short reference in the SEPA character set and a label. Returns the reference and label
    cleaned."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise PaymentError(
            f"Le montant à verser doit être un nombre entier de centimes supérieur à zéro (reçu : {amount_cents!r}).",
            code="payout_amount_invalid",
            field="amount_cents",
        )
    if not isinstance(source_kind, str) or not SOURCE_KIND.match(source_kind):
        raise PaymentError(
            "La nature de ce qui est payé doit être un nom court en minuscules (par exemple grant_instalment).",
            code="payout_source_invalid",
            field="source_kind",
        )
    if isinstance(source_id, bool) or not isinstance(source_id, int) or source_id <= 0:
        raise PaymentError(
            "L'identifiant de ce qui est payé doit être un nombre entier positif.",
            code="payout_source_invalid",
            field="source_id",
        )
    cleaned = sepa_text(reference)
    if not cleaned or cleaned != (reference or "").strip() or len(cleaned) > 35:
        raise PaymentError(
            "La référence du virement doit compter de 1 à 35 caractères, sans accent : lettres, chiffres, espaces et "
            "/ - ? : ( ) . , ' +.",
            code="payout_reference_invalid",
            field="reference",
        )
    label = " ".join((label or "").split())
    if not label or len(label) > 140:
        raise PaymentError(
            "Indiquez l'objet du versement, en 140 caractères au plus.", code="payout_label_invalid", field="label"
        )
    return cleaned, label


def _same_terms(order: PayoutOrder, terms: dict) -> bool:
    return all(getattr(order, field) == terms[field] for field in PAYOUT_TERMS)


def _refuse_other_terms(order: PayoutOrder, terms: dict) -> PaymentError:
    return PaymentError(
        f"Un ordre de paiement existe déjà pour cet objet ({order.source_kind} n° {order.source_id}) : "
        f"{order.reference}, {euros(order.amount_cents)} à l'organisation n° {order.organisation_id}. "
        "Il ne peut pas être modifié ni ordonné une seconde fois avec d'autres termes.",
        code="payout_already_ordered",
        status=409,
        payout_id=order.pk,
    )


@transaction.atomic
def schedule_payout(
    *,
    organisation,
    amount_cents: int,
    source_kind: str,
    source_id: int,
    reference: str,
    label: str,
    by,
    request=None,
) -> PayoutOrder:
    """Orders the payment of ``amount_cents`` to ``organisation``'s verified payee account by the
    next payment batch, for the thing ``(source_kind, source_id)`` of the calling app (e.g. a
    grant's accepted instalment). Idempotent: the same call again returns the existing order; the
    same thing with other terms (amount, payee, reference, label) is refused
    (``payout_already_ordered``) — an order is never changed (the database refuses it too)."""
    reference, label = check_payout_terms(
        amount_cents=amount_cents, source_kind=source_kind, source_id=source_id, reference=reference, label=label
    )
    terms = {"organisation_id": organisation.pk, "amount_cents": amount_cents, "reference": reference, "label": label}
    existing = PayoutOrder.objects.filter(source_kind=source_kind, source_id=source_id).first()
    if existing is None:
        try:
            # A savepoint: a concurrent call ordering the same thing wins the unique index, and
            # this one then reads its order and compares.
            with transaction.atomic():
                order = PayoutOrder.objects.create(
                    organisation=organisation,
                    amount_cents=amount_cents,
                    reference=reference,
                    label=label,
                    source_kind=source_kind,
                    source_id=source_id,
                    created_at=timezone.now(),
                    created_by=by if getattr(by, "is_authenticated", False) else None,
                )
        except IntegrityError:
            existing = PayoutOrder.objects.get(source_kind=source_kind, source_id=source_id)
        else:
            record(
                "payments.payout.scheduled",
                actor=by,
                request=request,
                organisation=organisation,
                target=order,
                after={
                    "reference": reference,
                    "amount_cents": amount_cents,
                    "source_kind": source_kind,
                    "source_id": source_id,
                },
            )
            return order
    if not _same_terms(existing, terms):
        raise _refuse_other_terms(existing, terms)
    return existing


def check_payout_payable(*, payout: PayoutOrder) -> None:
    """A payout order joins a batch only when to pay (first time or again)."""
    if payout.status == PayoutStatus.IN_BATCH:
        raise PaymentError(
            f"L'ordre de paiement {payout.reference} est déjà dans un lot de virements.",
            code="payout_already_in_batch",
            status=409,
        )
    if payout.status not in PAYOUT_PAYABLE_STATUSES:
        raise PaymentError(
            f"L'ordre de paiement {payout.reference} est « {payout.get_status_display()} » : il ne peut pas être payé.",
            code="payout_not_payable",
            status=409,
        )


def held_back_name(entry: dict) -> str:
    """What a held-back entry is: a statement's number or a payout order's reference."""
    return entry.get("statement") or entry.get("payout") or ""


def held_back_payout_entry(payout: PayoutOrder, error: DomainError) -> dict:
    return {
        "payout": payout.reference,
        "payout_id": payout.pk,
        "organisation_id": payout.organisation_id,
        "organisation": payout.organisation.name,
        "total_cents": payout.amount_cents,
        "code": error.code,
        "message": error.message,
    }


def remittance_of_payout(payout: PayoutOrder) -> str:
    # The reference first (what the payee's accounts match on), then the label if it fits.
    return sepa_text(f"{payout.reference} - {payout.label}")[:140]


# --- making a batch --------------------------------------------------------------------------


@dataclasses.dataclass
class BatchResult:
    batch: PaymentBatch
    held_back: list[dict]


def held_back_entry(statement: Statement, error: DomainError) -> dict:
    return {
        "statement": statement.number,
        "organisation_id": statement.site.organisation_id,
        "organisation": statement.site.organisation.name,
        "total_cents": statement.total_cents,
        "code": error.code,
        "message": error.message,
    }


def check_statement_payable(*, statement: Statement) -> None:
    """A statement joins a batch only when issued (or to pay again) with something to pay."""
    if statement.status == StatementStatus.IN_BATCH:
        raise PaymentError(
            f"Le relevé {statement.number} est déjà dans un lot de virements.",
            code="statement_already_in_batch",
            status=409,
        )
    if statement.status not in PAYABLE_STATUSES:
        raise PaymentError(
            f"Le relevé {statement.number} est « {statement.get_status_display()} » : il ne peut pas être payé.",
            code="statement_not_payable",
            status=409,
        )
    if statement.total_cents <= 0:
        raise PaymentError(
            f"Le relevé {statement.number} n'a rien à payer (total nul).", code="statement_nothing_to_pay", status=409
        )


def new_message_id(now: datetime.datetime) -> str:
    """Unique, at most 35 characters, SEPA's restricted Latin set."""
    return f"PASSNUM-{timezone.localtime(now, PARIS):%Y%m%d%H%M%S}-{secrets.token_hex(4).upper()}"


def remittance_of(statement: Statement) -> str:
    # What the site reads on its bank statement: plain ASCII, as the SEPA file carries it.
    return f"Pass numerique - releve {statement.number} du mois {statement.month:%m/%Y}"


@transaction.atomic
def create_batch(
    *,
    statements=None,
    payouts=None,
    by,
    request=None,
    execution_date: datetime.date | None = None,
) -> BatchResult:
    """A batch paying the issued (or *to pay* again) statements with a positive total and the
    payout orders to pay (first time or again) — all of them, or only the ``statements`` and
    ``payouts`` given (giving one list and not the other pays none of the other kind) — each to
    its organisation's verified payee account. Those whose organisation has no verified account
    are held back and returned with the reason (``payee_missing``, ``payee_not_verified``). Each
    paid statement moves to *in a batch*, and so does each payout order.

    The statements and the payout orders are locked (ordered by id) for the whole transaction, and
    each has at most one live batch line (unique indexes): two batches made at once never pay one
    twice.
    """
    debtor = debtor_account()
    everything = statements is None and payouts is None
    queryset = Statement.objects.select_related("site__organisation").select_for_update(of=("self",)).order_by("pk")
    if everything:
        candidates = list(queryset.filter(status__in=PAYABLE_STATUSES, total_cents__gt=0))
    else:
        candidates = list(queryset.filter(pk__in=sorted({statement.pk for statement in statements or ()})))
        for statement in candidates:
            check_statement_payable(statement=statement)
    orders = PayoutOrder.objects.select_related("organisation").select_for_update(of=("self",)).order_by("pk")
    if everything:
        payout_candidates = list(orders.filter(status__in=PAYOUT_PAYABLE_STATUSES))
    else:
        payout_candidates = list(orders.filter(pk__in=sorted({payout.pk for payout in payouts or ()})))
        for payout in payout_candidates:
            check_payout_payable(payout=payout)
    # Set-based: one query for every payee account, one for the lines, one status move for all
    # the statements and one for all the payout orders; the number of queries does not grow with
    # the batch.
    verdicts = payable_accounts(
        organisation_ids=[statement.site.organisation_id for statement in candidates]
        + [payout.organisation_id for payout in payout_candidates]
    )
    payable, payable_payouts, held_back = [], [], []
    for statement in candidates:
        verdict = verdicts[statement.site.organisation_id]
        if isinstance(verdict, PayeeError):
            held_back.append(held_back_entry(statement, verdict))
        else:
            payable.append((statement, verdict))
    for payout in payout_candidates:
        verdict = verdicts[payout.organisation_id]
        if isinstance(verdict, PayeeError):
            held_back.append(held_back_payout_entry(payout, verdict))
        else:
            payable_payouts.append((payout, verdict))
    if not payable and not payable_payouts:
        raise PaymentError(
            "Aucun relevé ni ordre de paiement ne peut être payé : "
            + (
                f"{len(held_back)} paiement(s) attendent un compte bancaire vérifié."
                if held_back
                else "tous les relevés émis et les ordres de paiement sont déjà payés ou dans un lot."
            ),
            code="nothing_to_pay",
            status=409,
            held_back=held_back,
        )
    now = timezone.now()
    batch = PaymentBatch.objects.create(
        message_id=new_message_id(now),
        debtor_name=debtor["name"],
        debtor_iban=debtor["iban"],
        debtor_bic=debtor["bic"],
        execution_date=execution_date or timezone.localdate(now, PARIS),
        held_back=held_back,
        created_at=now,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )

    def line_to(account, **paid):
        return PaymentBatchLine(
            batch=batch,
            payee_account=account,
            holder_name=account.holder_name,
            iban=account.iban,
            bic=account.bic,
            **paid,
        )

    lines = PaymentBatchLine.objects.bulk_create(
        [
            line_to(
                account,
                organisation=statement.site.organisation,
                amount_cents=statement.total_cents,
                end_to_end_id=f"{statement.number}-{batch.pk}",
                statement=statement,
                remittance_info=remittance_of(statement),
            )
            for statement, account in payable
        ]
        + [
            line_to(
                account,
                organisation=payout.organisation,
                amount_cents=payout.amount_cents,
                # The order's id, not its reference (free, maybe long): unique, at most 35 characters.
                end_to_end_id=f"ORD-{payout.pk}-{batch.pk}",
                payout=payout,
                remittance_info=remittance_of_payout(payout),
            )
            for payout, account in payable_payouts
        ]
    )
    from clearing.services import change_statuses

    change_statuses(
        statements=[line.statement for line in lines if line.statement is not None],
        to_status=StatementStatus.IN_BATCH,
        by=batch.created_by,
        reason=f"Lot de virements {batch.message_id}",
        request=request,
    )
    PayoutOrder.objects.filter(pk__in=[payout.pk for payout, _account in payable_payouts]).update(
        status=PayoutStatus.IN_BATCH
    )
    batch.line_count = len(lines)
    batch.total_cents = sum(line.amount_cents for line in lines)
    batch.sepa_file.save(f"{batch.message_id}.xml", ContentFile(build_pain001(batch=batch, lines=lines)), save=False)
    batch.save(update_fields=["line_count", "total_cents", "sepa_file"])
    PaymentBatchStatusChange.objects.create(batch=batch, to_status=BatchStatus.DRAFT, at=now, by=batch.created_by)
    record(
        "payments.batch.created",
        actor=by,
        request=request,
        target=batch,
        after={
            "message_id": batch.message_id,
            "lines": batch.line_count,
            "total_cents": batch.total_cents,
            "statements": [line.statement.number for line in lines if line.statement is not None],
            "payouts": [line.payout.reference for line in lines if line.payout is not None],
            "held_back": [held_back_name(entry) for entry in held_back],
        },
    )
    return BatchResult(batch=batch, held_back=held_back)


class _BatchTransfer(SepaTransfer):
    """sepaxml's transfer file, with the batch's own message id (the pain.002 names it back)."""

    def __init__(self, config, *, message_id):
        self._message_id = message_id
        super().__init__(config, schema=PAIN001_SCHEMA)

    def _create_header(self):
        self.msg_id = self._message_id
        super()._create_header()


def build_pain001(*, batch: PaymentBatch, lines) -> bytes:
    """The pain.001.001.03 file of a batch: batch booking, EUR, one transaction per line, the
    statement's number in the remittance information, validated against the official
    XSD it ships; an invalid file is refused, never stored."""
    config = {"name": batch.debtor_name, "IBAN": batch.debtor_iban, "batch": True, "currency": "EUR"}
    if batch.debtor_bic:
        config["BIC"] = batch.debtor_bic
    transfer = _BatchTransfer(config, message_id=batch.message_id)
    for line in lines:
        transfer.add_payment(
            {
                "name": line.holder_name,
                "IBAN": line.iban,
                "BIC": line.bic,
                "amount": int(line.amount_cents),
                "execution_date": batch.execution_date,
                "description": line.remittance_info,
                "endtoend_id": line.end_to_end_id,
            }
        )
    import xmlschema  # imported late, as sepaxml does: it patches ElementTree when imported

    content = transfer.export(validate=False)
    try:
        pain001_schema().validate(content.decode())
    except xmlschema.XMLSchemaValidationError as error:
        raise PaymentError(
            "Le fichier de virements ne respecte pas le format SEPA (pain.001.001.03) : vérifiez les noms et les "
            "comptes des bénéficiaires.",
            code="sepa_file_invalid",
            status=500,
        ) from error
    return content


@functools.cache
def pain001_schema():
    """The official pain.001.001.03 XSD shipped with sepaxml, loaded once per process (loading it
    takes seconds; sepaxml's own check would load it again for every file)."""
    import xmlschema

    return xmlschema.XMLSchema(Path(sepaxml.__file__).parent / "schemas" / f"{PAIN001_SCHEMA}.xsd")


# --- statuses ----------------------------------------------------------------------------------


def _lock(batch: PaymentBatch) -> PaymentBatch:
    return PaymentBatch.objects.select_for_update().get(pk=batch.pk)


def _move(batch: PaymentBatch, to_status: str, *, by, request=None) -> PaymentBatch:
    if to_status not in BATCH_TRANSITIONS[batch.status]:
        raise PaymentError(
            f"Le lot {batch.message_id} est « {batch.get_status_display()} » : il ne peut pas passer à "
            f"« {BatchStatus(to_status).label} ».",
            code="batch_status_refused",
            status=409,
        )
    from_status, now = batch.status, timezone.now()
    batch.status = to_status
    fields = ["status"]
    if to_status == BatchStatus.SENT:
        batch.sent_at, fields = now, [*fields, "sent_at"]
    if to_status == BatchStatus.PAID:
        batch.paid_at, fields = now, [*fields, "paid_at"]
    batch.save(update_fields=fields)
    actor = by if getattr(by, "is_authenticated", False) else None
    PaymentBatchStatusChange.objects.create(batch=batch, from_status=from_status, to_status=to_status, at=now, by=actor)
    record(
        "payments.batch.status",
        actor=by,
        request=request,
        target=batch,
        before={"status": from_status},
        after={"status": to_status},
    )
    return batch


@transaction.atomic
def mark_batch_sent(*, batch: PaymentBatch, by, request=None) -> PaymentBatch:
    """The operator has sent the file to the bank."""
    return _move(_lock(batch), BatchStatus.SENT, by=by, request=request)


@transaction.atomic
def mark_batch_paid(*, batch: PaymentBatch, by, request=None) -> PaymentBatch:
    """The bank has executed the batch: its transfers still pending are paid, and so are their
    statements and payout orders. Rejected transfers stay rejected (what they paid waits for a
    later batch)."""
    batch = _move(_lock(batch), BatchStatus.PAID, by=by, request=request)
    from clearing.services import change_statuses

    actor = by if getattr(by, "is_authenticated", False) else None
    pending = list(
        batch.lines.select_for_update(of=("self",))
        .filter(status=LineStatus.PENDING)
        .select_related("statement")
        .order_by("pk")
    )
    PaymentBatchLine.objects.filter(pk__in=[line.pk for line in pending]).update(status=LineStatus.PAID)
    paid_payouts = PayoutOrder.objects.filter(pk__in=[line.payout_id for line in pending if line.payout_id is not None])
    paid_payouts.update(status=PayoutStatus.PAID, paid_at=batch.paid_at)
    send_by_source(payouts_paid, paid_payouts.only("source_kind", "source_id"))
    change_statuses(
        statements=[line.statement for line in pending if line.statement is not None],
        to_status=StatementStatus.PAID,
        by=actor,
        reason=f"Virements du lot {batch.message_id} exécutés",
        request=request,
    )
    return batch


# --- rejections --------------------------------------------------------------------------------


def check_reason_code(reason_code: str) -> str:
    code = (reason_code or "").strip().upper()
    if code not in REJECTION_REASONS:
        raise PaymentError(
            "Choisissez le motif de rejet indiqué par la banque (par exemple AC01, IBAN incorrect).",
            code="rejection_reason_unknown",
            field="reason_code",
        )
    return code


def _check_rejectable(batch: PaymentBatch, line: PaymentBatchLine) -> None:
    if batch.status != BatchStatus.SENT:
        raise PaymentError(
            f"Le lot {batch.message_id} est « {batch.get_status_display()} » : seul un lot envoyé à la banque "
            "peut avoir des virements rejetés"
            + (
                " ; l'argent revenu après le paiement s'enregistre comme un retour de fonds."
                if batch.status == BatchStatus.PAID
                else "."
            ),
            code="batch_not_sent",
            status=409,
        )
    if line.status != LineStatus.PENDING:
        raise PaymentError(
            f"Le virement {line.end_to_end_id} est déjà « {line.get_status_display()} ».",
            code="line_not_pending",
            status=409,
        )


def _check_returnable(batch: PaymentBatch, line: PaymentBatchLine) -> None:
    if batch.status != BatchStatus.PAID:
        raise PaymentError(
            f"Le lot {batch.message_id} est « {batch.get_status_display()} » : un retour de fonds ne s'enregistre "
            "que sur un lot payé (avant, enregistrez un rejet).",
            code="batch_not_paid",
            status=409,
        )
    if line.status != LineStatus.PAID:
        raise PaymentError(
            f"Le virement {line.end_to_end_id} est « {line.get_status_display()} » : seul un virement payé peut "
            "être retourné.",
            code="line_not_paid",
            status=409,
        )


def _reject(line: PaymentBatchLine, code: str, *, by, request=None, returned: bool = False) -> PaymentBatchLine:
    """The line is rejected (or, once paid, returned); its statement is *rejected*, then *to pay*
    again, or its payout order *to pay again* (a later batch takes it, on the payee account in
    force then)."""
    from clearing.services import change_status

    line.status = LineStatus.RETURNED if returned else LineStatus.REJECTED
    line.reason_code = code
    line.reason_label = reason_label(code)
    line.rejected_at = timezone.now()
    line.save(update_fields=["status", "reason_code", "reason_label", "rejected_at"])
    actor = by if getattr(by, "is_authenticated", False) else None
    what = "retourné par la banque après paiement" if returned else "rejeté par la banque"
    if line.statement is not None:
        statement = change_status(
            statement=line.statement,
            to_status=StatementStatus.REJECTED,
            by=actor,
            reason=f"Virement {what} ({code}) : {line.reason_label}",
            request=request,
        )
        change_status(
            statement=statement,
            to_status=StatementStatus.TO_PAY,
            by=actor,
            reason="À payer par un prochain lot de virements",
            request=request,
        )
    if line.payout_id is not None:
        # Paid, then returned: no longer paid; the order's terms themselves never change.
        was_paid = PayoutOrder.objects.filter(pk=line.payout_id, status=PayoutStatus.PAID).exists()
        PayoutOrder.objects.filter(pk=line.payout_id).update(status=PayoutStatus.TO_PAY_AGAIN, paid_at=None)
        if was_paid:
            send_by_source(payouts_returned, PayoutOrder.objects.filter(pk=line.payout_id))
    record(
        "payments.line.returned" if returned else "payments.line.rejected",
        actor=by,
        request=request,
        organisation=line.organisation,
        target=line,
        after={"end_to_end_id": line.end_to_end_id, "reason_code": code, "reason": line.reason_label},
    )
    if returned:
        # The account the money came back from is not paid again until it is fixed and verified.
        from clearing.payees.services import unverify_payee_account

        unverify_payee_account(
            account=line.payee_account,
            reason=f"Virement {line.end_to_end_id} retourné par la banque ({code})",
            by=actor,
            request=request,
        )
        _notify_return(line)
    return line


def _notify_return(line: PaymentBatchLine) -> None:
    """Tells the site's admins and finance members, after commit, that the money came back and
    what to do: check the bank account; the statement is paid again by a later batch."""
    from clearing.tasks import site_finance_recipients

    statement = line.statement
    if statement is None:
        _notify_payout_return(line)
        return
    recipients = site_finance_recipients(statement.site)
    if not recipients:
        return
    link = settings.SITE_URL.rstrip("/") + reverse("mediators:bank")
    subject = f"Virement du relevé {statement.number} retourné par votre banque — Pass numérique"
    body = (
        f"Bonjour,\n\nLe virement de {euros(line.amount_cents)} qui payait le relevé {statement.number} "
        f"(encaissements de {statement.month:%m/%Y}) nous a été retourné par la banque du compte "
        f"{line.masked_iban} ({line.holder_name}).\n"
        f"Motif donné par la banque : {line.reason_label} (code {line.reason_code}).\n\n"
        "Vérifiez le compte bancaire indiqué dans votre espace et corrigez-le si besoin : "
        f"{link}\n"
        "Le relevé sera payé de nouveau par un prochain lot de virements, dès que l'opérateur aura vérifié "
        "votre compte (le nouveau, ou celui-ci si la banque l'accepte de nouveau).\n\nL'équipe du Pass numérique"
    )
    mail.send_after_commit(subject=subject, body=body, to=recipients)


def _notify_payout_return(line: PaymentBatchLine) -> None:
    """The same warning for a payout order: to the payee organisation's admins and finance members."""
    from clearing.tasks import organisation_finance_recipients

    payout = line.payout
    recipients = organisation_finance_recipients(line.organisation)
    if payout is None or not recipients:
        return
    subject = f"Virement {payout.reference} retourné par votre banque — Pass numérique"
    body = (
        f"Bonjour,\n\nLe virement de {euros(line.amount_cents)} que nous vous avions adressé pour « {payout.label} » "
        f"(référence {payout.reference}) nous a été retourné par la banque du compte {line.masked_iban} "
        f"({line.holder_name}).\n"
        f"Motif donné par la banque : {line.reason_label} (code {line.reason_code}).\n\n"
        "Vérifiez le compte bancaire indiqué dans votre espace Pass numérique et corrigez-le si besoin : "
        f"{settings.SITE_URL.rstrip('/')}/\n"
        "La somme vous sera versée de nouveau par un prochain lot de virements, dès que l'opérateur aura vérifié "
        "votre compte (le nouveau, ou celui-ci si la banque l'accepte de nouveau).\n\nL'équipe du Pass numérique"
    )
    mail.send_after_commit(subject=subject, body=body, to=recipients)


@transaction.atomic
def record_return(*, line: PaymentBatchLine, reason_code: str, by, request=None) -> PaymentBatchLine:
    """The bank sent back the money of a transfer of a batch already marked paid (a return:
    account closed AC04, holder unknown, …). The transfer becomes *returned*, its statement
    *rejected* then *to pay* again, the payee account paid goes back to *to verify* (a later batch
    pays the statement once the account is fixed and verified again), audited; the site is told by
    e-mail."""
    code = check_reason_code(reason_code)
    batch = _lock(line.batch)
    line = (
        PaymentBatchLine.objects.select_for_update(of=("self",))
        .select_related("statement__site__organisation", "organisation", "payout")
        .get(pk=line.pk)
    )
    _check_returnable(batch, line)
    return _reject(line, code, by=by, request=request, returned=True)


@transaction.atomic
def record_rejection(*, line: PaymentBatchLine, reason_code: str, by, request=None) -> PaymentBatchLine:
    """The bank rejected one transfer of a sent batch (``reason_code``: AC01, AC04, AC06, AG01,
    AM04, MD07, MS02, MS03, RC01…)."""
    code = check_reason_code(reason_code)
    batch = _lock(line.batch)
    line = (
        PaymentBatchLine.objects.select_for_update(of=("self",))
        .select_related("statement", "organisation", "payout")
        .get(pk=line.pk)
    )
    _check_rejectable(batch, line)
    return _reject(line, code, by=by, request=request)


# --- the bank's status report (pain.002) ------------------------------------------------------


@dataclasses.dataclass
class TransactionStatus:
    end_to_end_id: str
    status: str
    reason_code: str


@dataclasses.dataclass
class StatusReport:
    original_message_id: str
    group_status: str
    group_reason_code: str
    transactions: list[TransactionStatus]


@dataclasses.dataclass
class Pain002Result:
    rejected: list[str] = dataclasses.field(default_factory=list)
    accepted: int = 0
    already_rejected: int = 0

    @property
    def message(self) -> str:
        parts = [f"{len(self.rejected)} virement(s) rejeté(s)"]
        if self.accepted:
            parts.append(f"{self.accepted} accepté(s)")
        if self.already_rejected:
            parts.append(f"{self.already_rejected} déjà enregistré(s)")
        return "Relevé de la banque importé : " + ", ".join(parts) + "."


def _malformed(detail: str) -> PaymentError:
    return PaymentError(
        f"Ce fichier n'est pas un relevé d'état de virements de la banque (pain.002) lisible : {detail}",
        code="pain002_malformed",
        field="file",
    )


def parse_pain002(content: bytes) -> StatusReport:
    """Reads a pain.002 (any 001.xx version): the original message id, the group's status and each
    transaction's status and reason. Anything else is refused (``pain002_malformed``)."""
    if not content or len(content) > MAX_PAIN002_BYTES:
        raise _malformed("le fichier est vide ou trop gros.")
    if b"<!DOCTYPE" in content.upper() or b"<!ENTITY" in content.upper():
        raise _malformed("il contient une déclaration de document, refusée.")
    try:
        root = ET.fromstring(content)  # noqa: S314 - no DTD (checked above), so no entity expansion
    except ET.ParseError:
        raise _malformed("ce n'est pas du XML valide.") from None
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if not namespace.startswith(PAIN002_NAMESPACE_PREFIX) or root.tag != f"{{{namespace}}}Document":
        raise _malformed("ce n'est pas un message pain.002.")

    def q(path):
        return "/".join(f"{{{namespace}}}{part}" for part in path.split("/"))

    def text(node, path):
        found = node.find(q(path)) if node is not None else None
        return (found.text or "").strip() if found is not None else ""

    report = root.find(q("CstmrPmtStsRpt"))
    group = report.find(q("OrgnlGrpInfAndSts")) if report is not None else None
    original_message_id = text(group, "OrgnlMsgId")
    if not original_message_id:
        raise _malformed("l'identifiant du message d'origine (OrgnlMsgId) manque.")
    transactions = []
    for tx in report.iter(q("TxInfAndSts")):
        end_to_end_id, status = text(tx, "OrgnlEndToEndId"), text(tx, "TxSts")
        if not end_to_end_id or not status:
            raise _malformed("un virement n'a pas de référence (OrgnlEndToEndId) ou d'état (TxSts).")
        transactions.append(TransactionStatus(end_to_end_id, status, text(tx, "StsRsnInf/Rsn/Cd")))
    return StatusReport(
        original_message_id=original_message_id,
        group_status=text(group, "GrpSts"),
        group_reason_code=text(group, "StsRsnInf/Rsn/Cd"),
        transactions=transactions,
    )


def _read(file) -> bytes:
    if isinstance(file, bytes):
        return file
    if hasattr(file, "seek"):
        file.seek(0)
    content = file.read(MAX_PAIN002_BYTES + 1)
    return content.encode() if isinstance(content, str) else content


@transaction.atomic
def import_pain002(*, batch: PaymentBatch, file, by, request=None) -> Pain002Result:
    """Applies the bank's status report of ``batch``: each transfer marked ``RJCT`` is rejected with
    its reason (a whole group rejected rejects every pending transfer). A malformed file, another
    batch's report (``pain002_foreign``) or a transfer the batch does not have is refused, and then
    nothing is changed. Importing the same report again changes nothing."""
    report = parse_pain002(_read(file))
    batch = _lock(batch)
    if report.original_message_id != batch.message_id:
        raise PaymentError(
            f"Ce relevé de la banque concerne le message {report.original_message_id}, pas le lot "
            f"{batch.message_id} : importez-le sur le bon lot.",
            code="pain002_foreign",
            field="file",
            status=409,
        )
    lines = {
        line.end_to_end_id: line
        for line in batch.lines.select_for_update(of=("self",))
        .select_related("statement", "organisation", "payout")
        .order_by("pk")
    }
    unknown = [tx.end_to_end_id for tx in report.transactions if tx.end_to_end_id not in lines]
    if unknown:
        raise PaymentError(
            f"Ce relevé cite des virements que le lot {batch.message_id} ne contient pas : {', '.join(unknown[:5])}.",
            code="pain002_unknown_transaction",
            field="file",
            status=409,
        )
    to_reject = [
        (lines[tx.end_to_end_id], tx.reason_code or "MS03") for tx in report.transactions if tx.status == "RJCT"
    ]
    if report.group_status == "RJCT" and not report.transactions:
        to_reject = [(line, report.group_reason_code or "MS03") for line in lines.values()]
    result = Pain002Result(accepted=sum(1 for tx in report.transactions if tx.status != "RJCT"))
    for line, code in to_reject:
        if line.status in UNPAID_LINE_STATUSES:
            result.already_rejected += 1
            continue
        # A report that arrives after the batch was marked paid returns the transfers it rejects.
        returned = batch.status == BatchStatus.PAID
        (_check_returnable if returned else _check_rejectable)(batch, line)
        _reject(line, code[:4].upper(), by=by, request=request, returned=returned)
        result.rejected.append(line.end_to_end_id)
    record(
        "payments.pain002.imported",
        actor=by,
        request=request,
        target=batch,
        after={"rejected": result.rejected, "accepted": result.accepted, "already": result.already_rejected},
    )
    return result

"""Use cases of payment batches: make a batch of the statements to pay (SEPA pain.001.001.03, to
verified payee accounts only), mark it sent then paid, record the bank's rejections, typed in or
read from its pain.002 status report.

Every write is one transaction and audited; every refusal is a ``PaymentError`` (a ``DomainError``)
raised before anything is kept. Statements move only through ``clearing.services.change_status``.
"""

import dataclasses
import datetime
import functools
import secrets
import xml.etree.ElementTree as ET  # noqa: S405 - the bank's file is checked for DTDs before parsing
from pathlib import Path
from zoneinfo import ZoneInfo

import sepaxml
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from sepaxml import SepaTransfer

from clearing.models import Statement, StatementStatus
from clearing.money import euros
from clearing.payees.selectors import payable_accounts
from clearing.payees.validators import PayeeError, check_bic, check_iban
from clearing.payments.models import (
    UNPAID_LINE_STATUSES,
    BatchStatus,
    LineStatus,
    PaymentBatch,
    PaymentBatchLine,
    PaymentBatchStatusChange,
)
from clearing.payments.reasons import REJECTION_REASONS, reason_label
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
def create_batch(*, statements=None, by, request=None, execution_date: datetime.date | None = None) -> BatchResult:
    """A batch paying the issued (or *to pay* again) statements with a positive total — all of them,
    or ``statements`` — each to its organisation's verified payee account. Statements whose
    organisation has no verified account are held back and returned with the reason
    (``payee_missing``, ``payee_not_verified``). Each paid statement moves to *in a batch*.

    The statements are locked (ordered by id) for the whole transaction, and a statement has at
    most one live batch line (unique index): two batches made at once never pay one twice.
    """
    debtor = debtor_account()
    queryset = Statement.objects.select_related("site__organisation").select_for_update(of=("self",)).order_by("pk")
    if statements is not None:
        ids = sorted({statement.pk for statement in statements})
        candidates = list(queryset.filter(pk__in=ids))
        for statement in candidates:
            check_statement_payable(statement=statement)
    else:
        candidates = list(queryset.filter(status__in=PAYABLE_STATUSES, total_cents__gt=0))
    # Set-based: one query for every payee account, one for the lines, one status move for all
    # the statements; the number of queries does not grow with the batch.
    verdicts = payable_accounts(organisation_ids=[statement.site.organisation_id for statement in candidates])
    payable, held_back = [], []
    for statement in candidates:
        verdict = verdicts[statement.site.organisation_id]
        if isinstance(verdict, PayeeError):
            held_back.append(held_back_entry(statement, verdict))
        else:
            payable.append((statement, verdict))
    if not payable:
        raise PaymentError(
            "Aucun relevé ne peut être payé : "
            + (
                f"{len(held_back)} relevé(s) attendent un compte bancaire vérifié."
                if held_back
                else "tous les relevés émis sont déjà payés ou dans un lot."
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
    lines = PaymentBatchLine.objects.bulk_create(
        [
            PaymentBatchLine(
                batch=batch,
                organisation=statement.site.organisation,
                payee_account=account,
                holder_name=account.holder_name,
                iban=account.iban,
                bic=account.bic,
                amount_cents=statement.total_cents,
                end_to_end_id=f"{statement.number}-{batch.pk}",
                statement=statement,
                remittance_info=remittance_of(statement),
            )
            for statement, account in payable
        ]
    )
    from clearing.services import change_statuses

    change_statuses(
        statements=[line.statement for line in lines],
        to_status=StatementStatus.IN_BATCH,
        by=batch.created_by,
        reason=f"Lot de virements {batch.message_id}",
        request=request,
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
            "statements": [line.statement.number for line in lines],
            "held_back": [entry["statement"] for entry in held_back],
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
    statements. Rejected transfers stay rejected (their statements wait for a later batch)."""
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
    again (a later batch takes it, on the payee account in force then)."""
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
        .select_related("statement__site__organisation", "organisation")
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
        .select_related("statement", "organisation")
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
        .select_related("statement", "organisation")
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

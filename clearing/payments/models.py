"""A payment batch is one SEPA credit-transfer file (pain.001.001.03) sent to the operator's bank:
one line per transfer, each paying one statement — or one payout order — to the payee account
version verified when the batch was made (its holder, IBAN and BIC are copied on the line: a later
change of the account never changes where a batch sent the money).

A payout order is money owed to an organisation for something other than a site's statement (a
grant's accepted instalment, …): the owing app schedules it once per thing it pays
(``source_kind``, ``source_id``), and the batches pay it like a statement.

A statement, like a payout order, is in at most one live line (partial unique indexes, rejected
lines aside), so two batches can never both pay it. Status moves of a batch are kept in an
append-only log.
"""

import secrets

import pgtrigger
from django.conf import settings
from django.db import models

from clearing.money import euros
from passnum.organisations.tenancy import TenantQuerySet


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "Préparé"
    SENT = "sent", "Envoyé à la banque"
    PAID = "paid", "Payé"


class LineStatus(models.TextChoices):
    PENDING = "pending", "En attente de la banque"
    PAID = "paid", "Payé"
    REJECTED = "rejected", "Rejeté par la banque"
    # The bank sent the money back after the batch was paid (a return): the statement is to pay again.
    RETURNED = "returned", "Retourné par la banque après paiement"


# A transfer that no longer pays its statement: a later batch may take the statement again.
UNPAID_LINE_STATUSES = (LineStatus.REJECTED, LineStatus.RETURNED)


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "À payer"
    IN_BATCH = "in_batch", "Dans un lot de virements"
    PAID = "paid", "Payé"
    # The bank rejected or returned its transfer: a later batch pays it again.
    TO_PAY_AGAIN = "to_pay_again", "Rejeté par la banque, à payer de nouveau"


# A payout order in one of these statuses joins the next batch.
PAYOUT_PAYABLE_STATUSES = (PayoutStatus.PENDING, PayoutStatus.TO_PAY_AGAIN)


class PayoutOrderQuerySet(TenantQuerySet, models.QuerySet):
    pass


# What a payout order pays and to whom never changes once scheduled; only its status moves.
PAYOUT_FROZEN_FIELDS = (
    "organisation",
    "amount_cents",
    "reference",
    "label",
    "source_kind",
    "source_id",
    "created_at",
    "created_by",
)


class PayoutOrder(models.Model):
    """Money owed to an organisation outside the sites' statements (e.g. a grant's instalment),
    paid by the payment batches to the organisation's verified payee account."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="bénéficiaire"
    )
    amount_cents = models.BigIntegerField("montant (centimes)")
    reference = models.CharField(
        "référence", max_length=35, help_text="Reprise en tête du libellé du virement, lue par le bénéficiaire."
    )
    label = models.CharField("objet", max_length=140)
    # What is paid, named by the app that owes it: the same thing is never ordered twice.
    source_kind = models.CharField("nature de ce qui est payé", max_length=40)
    source_id = models.PositiveBigIntegerField("identifiant de ce qui est payé")
    status = models.CharField(
        "état", max_length=14, choices=PayoutStatus.choices, default=PayoutStatus.PENDING, db_index=True
    )
    created_at = models.DateTimeField("ordonné le")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )
    paid_at = models.DateTimeField("payé le", null=True, blank=True)

    tenant_field = "organisation"
    objects = PayoutOrderQuerySet.as_manager()

    class Meta:
        verbose_name = "ordre de paiement"
        verbose_name_plural = "ordres de paiement (hors relevés)"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["source_kind", "source_id"], name="payout_order_once_per_source"),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="payout_order_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=PayoutStatus.values), name="payout_order_status_valid"
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="payout_order_never_deleted", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="payout_order_terms_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(*PAYOUT_FROZEN_FIELDS),
            ),
        ]

    def __str__(self):
        return f"{self.reference} — {euros(self.amount_cents)}"

    @property
    def amount_display(self):
        return euros(self.amount_cents)


def sepa_file_path(instance, filename):
    # A random folder: the file names an IBAN per line, it must not be guessable.
    return f"clearing/virements/{secrets.token_urlsafe(16)}/{instance.message_id}.xml"


class PaymentBatch(models.Model):
    message_id = models.CharField("identifiant du message SEPA", max_length=35, unique=True)
    status = models.CharField(
        "état", max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT, db_index=True
    )
    debtor_name = models.CharField("compte débité : titulaire", max_length=70)
    debtor_iban = models.CharField("compte débité : IBAN", max_length=34)
    debtor_bic = models.CharField("compte débité : BIC", max_length=11, blank=True)
    execution_date = models.DateField("date d'exécution demandée")
    line_count = models.PositiveIntegerField("virements", default=0)
    total_cents = models.BigIntegerField("montant total (centimes)", default=0)
    held_back = models.JSONField(
        "retenus à la création",
        default=list,
        blank=True,
        help_text="Relevés et ordres de paiement laissés hors du lot faute de compte bancaire vérifié.",
    )
    sepa_file = models.FileField("fichier SEPA (pain.001)", upload_to=sepa_file_path, max_length=200, blank=True)
    created_at = models.DateTimeField("créé le")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    paid_at = models.DateTimeField("payé le", null=True, blank=True)

    class Meta:
        verbose_name = "lot de virements"
        verbose_name_plural = "lots de virements"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BatchStatus.values), name="payment_batch_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(total_cents__gte=0), name="payment_batch_total_not_negative"),
        ]
        triggers = [
            pgtrigger.Protect(name="payment_batch_never_deleted", operation=pgtrigger.Delete),
            # The debtor, the message id and what was sent are fixed once the batch exists.
            pgtrigger.Protect(
                name="payment_batch_identity_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(
                    "message_id", "debtor_name", "debtor_iban", "debtor_bic", "execution_date", "created_at"
                ),
            ),
        ]

    def __str__(self):
        return f"Lot {self.message_id}"

    @property
    def total_display(self):
        return euros(self.total_cents)


class PaymentBatchLineQuerySet(TenantQuerySet, models.QuerySet):
    pass


class PaymentBatchLine(models.Model):
    """One transfer of a batch: to an organisation, on a snapshot of its payee account version."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="lines", verbose_name="lot")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="bénéficiaire"
    )
    payee_account = models.ForeignKey(
        "payees.PayeeAccount", on_delete=models.PROTECT, related_name="+", verbose_name="version du compte payé"
    )
    holder_name = models.CharField("titulaire du compte", max_length=140)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11)
    amount_cents = models.BigIntegerField("montant (centimes)")
    end_to_end_id = models.CharField("référence de bout en bout", max_length=35, unique=True)
    # What the transfer pays: a statement or a payout order, exactly one of them (a CHECK).
    statement = models.ForeignKey(
        "clearing.Statement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_lines",
        verbose_name="relevé payé",
    )
    payout = models.ForeignKey(
        PayoutOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_lines",
        verbose_name="ordre de paiement payé",
    )
    remittance_info = models.CharField("libellé du virement", max_length=140)
    status = models.CharField(
        "état", max_length=10, choices=LineStatus.choices, default=LineStatus.PENDING, db_index=True
    )
    reason_code = models.CharField("motif de rejet (code)", max_length=4, blank=True)
    reason_label = models.CharField("motif de rejet", max_length=200, blank=True)
    rejected_at = models.DateTimeField("rejeté ou retourné le", null=True, blank=True)

    tenant_field = "organisation"
    objects = PaymentBatchLineQuerySet.as_manager()

    class Meta:
        verbose_name = "virement d'un lot"
        verbose_name_plural = "virements des lots"
        ordering = ["batch_id", "pk"]
        constraints = [
            # Two batches can never claim the same statement; a rejected or returned transfer frees it.
            models.UniqueConstraint(
                fields=["statement"],
                condition=models.Q(statement__isnull=False) & ~models.Q(status__in=UNPAID_LINE_STATUSES),
                name="payment_line_one_live_per_statement",
            ),
            models.UniqueConstraint(
                fields=["payout"],
                condition=models.Q(payout__isnull=False) & ~models.Q(status__in=UNPAID_LINE_STATUSES),
                name="payment_line_one_live_per_payout",
            ),
            models.CheckConstraint(
                condition=models.Q(statement__isnull=False, payout__isnull=True)
                | models.Q(statement__isnull=True, payout__isnull=False),
                name="payment_line_pays_one_thing",
            ),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="payment_line_amount_positive"),
            models.CheckConstraint(condition=models.Q(status__in=LineStatus.values), name="payment_line_status_valid"),
        ]
        triggers = [
            pgtrigger.Protect(name="payment_line_never_deleted", operation=pgtrigger.Delete),
            # Only the outcome moves (pending → paid or rejected, paid → returned); what was sent never changes.
            pgtrigger.Protect(
                name="payment_line_sent_details_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(
                    "batch",
                    "organisation",
                    "payee_account",
                    "holder_name",
                    "iban",
                    "bic",
                    "amount_cents",
                    "end_to_end_id",
                    "statement",
                    "payout",
                    "remittance_info",
                ),
            ),
            # The outcome is final, but for a paid transfer the bank returns later (paid → returned).
            pgtrigger.Protect(
                name="payment_line_outcome_final",
                operation=pgtrigger.Update,
                condition=~pgtrigger.Q(old__status="pending")
                & ~(pgtrigger.Q(old__status="paid") & pgtrigger.Q(new__status="returned")),
            ),
        ]

    def __str__(self):
        return f"{self.end_to_end_id} — {euros(self.amount_cents)}"

    @property
    def masked_iban(self):
        return f"{self.iban[:4]} •••• •••• {self.iban[-4:]}" if self.iban else ""

    @property
    def paid_thing(self):
        """What the transfer pays, as the operator reads it: a statement's number or a payout's reference."""
        if self.statement_id:
            return f"Relevé {self.statement.number}"
        return f"Ordre {self.payout.reference}" if self.payout_id else ""


class PaymentBatchStatusChange(models.Model):
    """Append-only log of a batch's statuses (draft → sent → paid)."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="status_changes", verbose_name="lot")
    from_status = models.CharField("de", max_length=10, choices=BatchStatus.choices, blank=True)
    to_status = models.CharField("vers", max_length=10, choices=BatchStatus.choices)
    at = models.DateTimeField("le")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )

    class Meta:
        verbose_name = "changement d'état d'un lot"
        verbose_name_plural = "changements d'état des lots"
        ordering = ["at", "pk"]
        triggers = [
            pgtrigger.Protect(
                name="payment_batch_status_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self):
        return f"{self.batch} : {self.get_to_status_display()}"

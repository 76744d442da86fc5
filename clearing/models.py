"""Clearing: the monthly statements (relevés de remboursement) that pay the sites.

A redemption (``mediators.Redemption``) is the finance event; the monthly close copies each live,
unsettled redemption into one line of the site's statement and marks it settled, in one
transaction per site. Once issued, a statement never changes (database triggers): only its PDF
and its current status move, and every status move is kept in an append-only log. A correction is
an ``Adjustment`` carried on the site's next statement.
"""

import secrets

import pgtrigger
from django.conf import settings
from django.db import models

from clearing.money import euros
from mediators.qualification.models import SiteOwnedQuerySet
from passnum.organisations.tenancy import TenantQuerySet


class StatementStatus(models.TextChoices):
    ISSUED = "issued", "Émis"
    IN_BATCH = "in_batch", "Dans un lot de virements"
    PAID = "paid", "Payé"
    REJECTED = "rejected", "Virement rejeté"
    TO_PAY = "to_pay", "À payer de nouveau"
    VOIDED = "voided", "Annulé"


def statement_pdf_path(instance, filename):
    return f"clearing/releves/{instance.year}/{instance.number}.pdf"


class Statement(models.Model):
    """The monthly statement of a site: what the operator pays it for its redemptions."""

    number = models.CharField("numéro", max_length=20, unique=True)
    year = models.PositiveIntegerField("année de numérotation")
    site = models.ForeignKey(
        "mediators.Site", on_delete=models.PROTECT, related_name="statements", verbose_name="structure"
    )
    month = models.DateField("mois", help_text="Premier jour du mois des encaissements (heure de Paris).")
    issued_at = models.DateTimeField("émis le")
    site_name = models.CharField("structure (à l'émission)", max_length=200)
    site_siret = models.CharField("SIRET (à l'émission)", max_length=14, blank=True)
    redemption_count = models.PositiveIntegerField("encaissements")
    pass_count = models.PositiveIntegerField("pass")
    redemptions_cents = models.BigIntegerField("encaissements (centimes)")
    adjustments_cents = models.BigIntegerField("régularisations (centimes)", default=0)
    subscription_netted_cents = models.BigIntegerField("abonnement déduit (centimes)", default=0)
    subscription_invoice = models.ForeignKey(
        "SubscriptionInvoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="netted_on",
        verbose_name="facture d'abonnement déduite",
    )
    total_cents = models.BigIntegerField("total à payer (centimes)")
    status = models.CharField(
        "état", max_length=10, choices=StatementStatus.choices, default=StatementStatus.ISSUED, db_index=True
    )
    pdf = models.FileField("PDF", upload_to=statement_pdf_path, max_length=200, blank=True)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "relevé de remboursement"
        verbose_name_plural = "relevés de remboursement"
        ordering = ["-month", "-number"]
        constraints = [
            # One statement per site and month, a voided one aside: two closes at once cannot both
            # issue one.
            models.UniqueConstraint(
                fields=["site", "month"],
                condition=~models.Q(status="voided"),
                name="statement_one_per_site_and_month",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    total_cents=models.F("redemptions_cents")
                    + models.F("adjustments_cents")
                    - models.F("subscription_netted_cents")
                ),
                name="statement_total_is_sum",
            ),
            models.CheckConstraint(
                condition=models.Q(total_cents__gte=0, redemptions_cents__gte=0, subscription_netted_cents__gte=0),
                name="statement_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=StatementStatus.values), name="statement_status_valid"
            ),
        ]
        triggers = [
            # Issued means fixed: only the PDF (rendered after commit) and the current status move.
            pgtrigger.Protect(
                name="statement_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["pdf", "status"]),
            ),
            pgtrigger.Protect(name="statement_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return f"Relevé {self.number}"

    @property
    def total_display(self):
        return euros(self.total_cents)

    @property
    def is_voided(self):
        return self.status == StatementStatus.VOIDED


class StatementLine(models.Model):
    """One redemption paid by a statement. ``live`` turns false only when the statement is voided:
    a redemption has at most one live line (partial unique index), so it is paid at most once."""

    # The close writes a line per redemption of the month (a million at full size): each index and
    # each foreign-key check is paid per line. Kept: the primary key, the two unique constraints
    # below (the first also serves every look-up by statement) and the foreign keys to the statement
    # and the redemption. The service, place and programme are copies of the redemption's own
    # columns, written from the redemption in the same statement and never changed afterwards
    # (trigger): the redemption's foreign keys already hold them, so no second check or index here.
    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="lines", verbose_name="relevé", db_index=False
    )
    redemption = models.ForeignKey(
        "mediators.Redemption", on_delete=models.PROTECT, related_name="+", verbose_name="encaissement", db_index=False
    )
    service = models.ForeignKey(
        "aptic_catalog.Service", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    point_of_presence = models.ForeignKey(
        "mediators.PointOfPresence", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    programme = models.ForeignKey(
        "sponsors.Programme", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    pass_count = models.PositiveSmallIntegerField("pass")
    amount_cents = models.PositiveIntegerField("montant (centimes)")
    redeemed_at = models.DateTimeField("encaissé le")
    live = models.BooleanField("en vigueur", default=True)

    tenant_field = "statement__site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "ligne de relevé"
        verbose_name_plural = "lignes de relevé"
        constraints = [
            models.UniqueConstraint(
                fields=["redemption"], condition=models.Q(live=True), name="statement_line_one_live_per_redemption"
            ),
            models.UniqueConstraint(fields=["statement", "redemption"], name="statement_line_once_per_statement"),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="statement_line_amount_positive"),
        ]
        triggers = [
            # Only a void may touch a line, and only to take it out (live: true → false).
            pgtrigger.Protect(
                name="statement_line_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["live"]),
            ),
            pgtrigger.Protect(
                name="statement_line_never_live_again",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__live=False, new__live=True),
            ),
            pgtrigger.Protect(name="statement_line_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.statement.number} — {euros(self.amount_cents)}"


class StatementStatusChange(models.Model):
    """Append-only log of a statement's statuses (issued → in_batch → paid / rejected → to_pay;
    voided)."""

    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="status_changes", verbose_name="relevé"
    )
    from_status = models.CharField("de", max_length=10, choices=StatementStatus.choices, blank=True)
    to_status = models.CharField("vers", max_length=10, choices=StatementStatus.choices)
    reason = models.TextField("motif", blank=True)
    at = models.DateTimeField("le")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )

    tenant_field = "statement__site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "changement d'état d'un relevé"
        verbose_name_plural = "changements d'état des relevés"
        ordering = ["at", "pk"]
        triggers = [
            pgtrigger.Protect(
                name="statement_status_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self):
        return f"{self.statement.number} : {self.get_to_status_display()}"


class Adjustment(models.Model):
    """A correction decided by the operator after a statement (amount may be negative), carried on
    the site's next statement. Never edited: only its statement is set when it is carried (and
    cleared again if that statement is voided)."""

    site = models.ForeignKey(
        "mediators.Site", on_delete=models.PROTECT, related_name="adjustments", verbose_name="structure"
    )
    amount_cents = models.BigIntegerField("montant (centimes)", help_text="Négatif pour une somme à reprendre.")
    reason = models.TextField("motif")
    created_at = models.DateTimeField("créée le")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )
    statement = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
        verbose_name="reportée sur le relevé",
    )

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "régularisation"
        verbose_name_plural = "régularisations"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_cents=0), name="adjustment_amount_not_zero"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="adjustment_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["statement"]),
            ),
            pgtrigger.Protect(name="adjustment_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return f"Régularisation de {euros(self.amount_cents or 0)}"


# --- expiry and credit notes


def credit_note_path(instance, filename):
    return f"clearing/credit_notes/{secrets.token_urlsafe(24)}.pdf"


class ExpiryAlertQuerySet(TenantQuerySet, models.QuerySet):
    pass


class ExpiryAlert(models.Model):
    """A warning sent to a sponsor before its programme's end (J-30, J-15, J-7): one per
    threshold and end date (unique), so the nightly job never sends it twice."""

    class Threshold(models.IntegerChoices):
        D30 = 30, "J-30"
        D15 = 15, "J-15"
        D7 = 7, "J-7"

    programme = models.ForeignKey(
        "sponsors.Programme", on_delete=models.PROTECT, related_name="+", verbose_name="programme"
    )
    days_before = models.PositiveSmallIntegerField("jours avant la fin", choices=Threshold.choices)
    valid_until = models.DateField("fin de validité annoncée")
    sent_at = models.DateTimeField("envoyée le")
    recipients = models.JSONField("destinataires", default=list)
    counters = models.JSONField("compteurs des carnets", default=dict)

    tenant_field = "programme__sponsor"
    objects = ExpiryAlertQuerySet.as_manager()

    class Meta:
        verbose_name = "alerte de fin de programme"
        verbose_name_plural = "alertes de fin de programme"
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "days_before", "valid_until"], name="expiry_alert_once_per_threshold"
            ),
        ]

    def __str__(self):
        return f"{self.get_days_before_display()} — {self.programme_id}"


class CreditNoteQuerySet(TenantQuerySet, models.QuerySet):
    pass


# What the database refuses to change once a credit note is issued (the PDF is added after commit).
CREDIT_NOTE_FROZEN_FIELDS = (
    "id",
    "programme",
    "sponsor",
    "number",
    "year",
    "issued_at",
    "sponsor_name",
    "sponsor_address",
    "sponsor_siret",
    "programme_name",
    "valid_until",
    "expires_on",
    "face_value_cents",
    "expired_pass_count",
    "amount_cents",
    "cancelled_pass_count",
    "cancelled_value_cents",
)


class CreditNote(models.Model):
    """The credit note (avoir) of a programme's expiry: the face value of its expired passes, given
    back to the sponsor (the operator's fee is not). Cancelled passes (lost booklets) are reported
    on it, not credited. One per programme; never changed nor deleted once issued (trigger)."""

    programme = models.ForeignKey(
        "sponsors.Programme", on_delete=models.PROTECT, related_name="+", verbose_name="programme"
    )
    sponsor = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="commanditaire"
    )
    number = models.CharField("numéro", max_length=20, unique=True)
    year = models.PositiveIntegerField("année")
    issued_at = models.DateTimeField("émis le")
    sponsor_name = models.CharField("raison sociale", max_length=200)
    sponsor_address = models.CharField("adresse", max_length=400, blank=True)
    sponsor_siret = models.CharField("SIRET", max_length=14)
    programme_name = models.CharField("programme", max_length=200)
    valid_until = models.DateField("valable jusqu'au")
    expires_on = models.DateField("dernier jour d'encaissement")
    face_value_cents = models.PositiveIntegerField("valeur faciale d'un pass (centimes)")
    expired_pass_count = models.PositiveIntegerField("pass expirés")
    amount_cents = models.BigIntegerField("montant de l'avoir (centimes)")
    cancelled_pass_count = models.PositiveIntegerField("pass annulés (non remboursés)", default=0)
    cancelled_value_cents = models.BigIntegerField("valeur des pass annulés (centimes)", default=0)
    pdf = models.FileField("PDF", upload_to=credit_note_path, max_length=200, blank=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    tenant_field = "sponsor"
    objects = CreditNoteQuerySet.as_manager()

    class Meta:
        verbose_name = "avoir au commanditaire"
        verbose_name_plural = "avoirs aux commanditaires"
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme"], name="credit_note_one_per_programme"),
            models.CheckConstraint(
                condition=models.Q(amount_cents=models.F("face_value_cents") * models.F("expired_pass_count")),
                name="credit_note_amount_is_face_value_of_expired",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0, cancelled_value_cents__gte=0),
                name="credit_note_amounts_positive",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="credit_note_never_deleted", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="credit_note_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(*CREDIT_NOTE_FROZEN_FIELDS),
            ),
            pgtrigger.Protect(
                name="credit_note_pdf_set_once",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__pdf__df=pgtrigger.F("new__pdf")) & ~pgtrigger.Q(old__pdf=""),
            ),
        ]

    def __str__(self):
        return f"Avoir {self.number}"


def subscription_invoice_pdf_path(instance, filename):
    return f"clearing/abonnements/{instance.year}/{instance.number}.pdf"


class SubscriptionInvoice(models.Model):
    """The invoice of a site's yearly subscription (ABO-YYYY-NNNNNN, VAT on the amount before
    tax). Never changed once issued, its PDF aside; it is paid by the site, or netted on one of its
    statements when the site chose so."""

    number = models.CharField("numéro", max_length=20, unique=True)
    year = models.PositiveIntegerField("année de numérotation")
    subscription = models.OneToOneField(
        "mediators.Subscription", on_delete=models.PROTECT, related_name="invoice", verbose_name="abonnement"
    )
    site = models.ForeignKey(
        "mediators.Site", on_delete=models.PROTECT, related_name="subscription_invoices", verbose_name="structure"
    )
    subscription_year = models.PositiveSmallIntegerField("année d'abonnement")
    issued_at = models.DateTimeField("émise le")
    site_name = models.CharField("structure (à l'émission)", max_length=200)
    site_siret = models.CharField("SIRET (à l'émission)", max_length=14, blank=True)
    amount_cents = models.BigIntegerField("montant HT (centimes)")
    vat_rate_bp = models.PositiveIntegerField("taux de TVA (centièmes de %)")
    vat_cents = models.BigIntegerField("TVA (centimes)")
    total_cents = models.BigIntegerField("total TTC (centimes)")
    pdf = models.FileField("PDF", upload_to=subscription_invoice_pdf_path, max_length=200, blank=True)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "facture d'abonnement"
        verbose_name_plural = "factures d'abonnement"
        ordering = ["-year", "-number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_cents=models.F("amount_cents") + models.F("vat_cents")),
                name="subscription_invoice_total_is_sum",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gte=0, vat_cents__gte=0), name="subscription_invoice_amounts_positive"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="subscription_invoice_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["pdf"]),
            ),
            pgtrigger.Protect(name="subscription_invoice_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return f"Facture d'abonnement {self.number}"

    @property
    def total_display(self):
        return euros(self.total_cents)


class SubscriptionNetting(models.Model):
    """The site's choice: its unpaid subscription is deducted from its next statement."""

    site = models.OneToOneField(
        "mediators.Site", on_delete=models.CASCADE, related_name="subscription_netting", verbose_name="structure"
    )
    enabled = models.BooleanField("abonnement déduit des remboursements", default=False)
    changed_at = models.DateTimeField("choisi le")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "déduction de l'abonnement"
        verbose_name_plural = "déductions de l'abonnement"

    def __str__(self):
        return f"Abonnement déduit des remboursements : {'oui' if self.enabled else 'non'}"

import secrets

import pgtrigger
from django.db import models

from passnum.organisations.tenancy import TenantQuerySet

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

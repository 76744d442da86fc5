"""The bank account an organisation is paid on, one row per version.

Changing the holder, the IBAN, the BIC or who receives the transfer never edits a row: it adds a
new version (back to *to verify*) and the previous one stays readable, so that a payment already
made still shows the account it went to. Only the verification of the current version changes a
row, and the database refuses any other update or a deletion.
"""

import pgtrigger
from django.conf import settings
from django.db import models

from passnum.organisations.tenancy import TenantQuerySet


class PayeeKind(models.TextChoices):
    SELF = "self", "La structure ou l'entreprise elle-même (son propre compte)"
    TREASURER_REGIE = "treasurer_regie", "Le comptable public (régie de recettes)"
    TREASURER_MANDATE = "treasurer_mandate", "Le comptable public (mandat)"


class PayeeStatus(models.TextChoices):
    TO_VERIFY = "to_verify", "À vérifier par l'opérateur"
    VERIFIED = "verified", "Vérifié"


class PayeeAccountQuerySet(TenantQuerySet, models.QuerySet):
    def current(self):
        return self.filter(is_current=True)


BANK_FIELDS = ("organisation", "version", "payee_kind", "holder_name", "iban", "bic", "created_at", "created_by")


class PayeeAccount(models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="payee_accounts",
        verbose_name="organisation",
    )
    version = models.PositiveIntegerField("version")
    is_current = models.BooleanField("version en vigueur", default=True)
    payee_kind = models.CharField("bénéficiaire du virement", max_length=20, choices=PayeeKind.choices)
    holder_name = models.CharField("titulaire du compte", max_length=140)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11)
    status = models.CharField(
        "vérification", max_length=12, choices=PayeeStatus.choices, default=PayeeStatus.TO_VERIFY, db_index=True
    )
    verified_at = models.DateTimeField("vérifié le", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="vérifié par",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="saisi par",
    )

    tenant_field = "organisation"
    objects = PayeeAccountQuerySet.as_manager()

    class Meta:
        verbose_name = "compte de versement"
        verbose_name_plural = "comptes de versement"
        ordering = ["organisation_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "version"], name="payee_account_one_row_per_version"),
            models.UniqueConstraint(
                fields=["organisation"], condition=models.Q(is_current=True), name="payee_account_one_current"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PayeeStatus.values), name="payee_account_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(payee_kind__in=PayeeKind.values), name="payee_account_kind_valid"
            ),
        ]
        triggers = [
            # A version is a record of where money may go: its bank details never change.
            pgtrigger.Protect(
                name="payee_account_bank_details_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(*BANK_FIELDS),
            ),
            pgtrigger.Protect(name="payee_account_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.holder_name} — {self.masked_iban} (version {self.version})"

    @property
    def masked_iban(self):
        return f"{self.iban[:4]} •••• •••• {self.iban[-4:]}" if self.iban else ""

    @property
    def is_verified(self):
        return self.status == PayeeStatus.VERIFIED

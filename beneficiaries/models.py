"""Beneficiaries and hand-overs.

A beneficiary record is pseudonymous: what the sponsor's reporting needs (age band, commune,
audiences) plus contact data only with consent, and a name only when the programme requires it
and the person agrees. Personal fields are purged after the retention period; the pseudonymous
fields (aggregates) survive.
"""

import pgtrigger
from django.conf import settings
from django.db import models

from passnum.organisations.tenancy import TenantQuerySet


class AgeBand(models.TextChoices):
    B16_25 = "16-25", "16 à 25 ans"
    B26_44 = "26-44", "26 à 44 ans"
    B45_59 = "45-59", "45 à 59 ans"
    B60_74 = "60-74", "60 à 74 ans"
    B75 = "75+", "75 ans et plus"


class LossKind(models.TextChoices):
    LOST = "lost", "Perdu"
    STOLEN = "stolen", "Volé"


class BeneficiaryQuerySet(TenantQuerySet, models.QuerySet):
    pass


class Beneficiary(models.Model):
    created_by = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="prescripteur",
    )
    programme = models.ForeignKey(
        "sponsors.Programme",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="programme (pour la durée de conservation)",
    )
    age_band = models.CharField("tranche d'âge", max_length=5, choices=AgeBand.choices)
    commune = models.CharField("commune (code INSEE)", max_length=5)
    # Codes of the programme's audiences (``passnum.audiences``), never labels: reports group by code.
    audiences = models.JSONField("publics (codes)", default=list, blank=True)
    contact_consent = models.BooleanField("accepte d'être contacté", default=False)
    # Personal fields: purged after the retention period.
    email = models.EmailField("e-mail", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    name = models.CharField("nom (si le programme l'exige)", max_length=150, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    purged_at = models.DateTimeField("données personnelles effacées le", null=True, blank=True)

    tenant_field = "created_by"
    objects = BeneficiaryQuerySet.as_manager()

    PERSONAL_FIELDS = ("email", "phone", "name")

    class Meta:
        verbose_name = "bénéficiaire"
        verbose_name_plural = "bénéficiaires"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(age_band__in=AgeBand.values), name="beneficiary_age_band_valid"),
            models.CheckConstraint(
                condition=models.Q(contact_consent=True) | models.Q(email="", phone=""),
                name="beneficiary_contact_only_with_consent",
            ),
            models.CheckConstraint(
                condition=models.Q(commune__regex=r"^(\d{5}|2[AB]\d{3})$"), name="beneficiary_commune_format"
            ),
        ]
        indexes = [models.Index(fields=["programme", "purged_at"], name="beneficiary_programme_purge")]

    def __str__(self):
        return f"Bénéficiaire n° {self.pk}"


class HandOverQuerySet(TenantQuerySet, models.QuerySet):
    def live(self):
        return self.filter(undone_at__isnull=True)


class HandOver(models.Model):
    """A booklet handed to a beneficiary at a prescriber's counter (at most one live per booklet)."""

    booklet = models.ForeignKey("passes.Booklet", on_delete=models.PROTECT, related_name="+", verbose_name="carnet")
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="hand_overs")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="prescripteur"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="agent",
    )
    at = models.DateTimeField("remis le", db_index=True)
    is_exception = models.BooleanField("dérogation", default=False)
    exception_reason = models.TextField("raison de la dérogation", blank=True)
    exception_warnings = models.JSONField("avertissements d'éligibilité", default=list, blank=True)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacements",
        verbose_name="remplace la remise",
    )
    submission_key = models.CharField("clé du formulaire", max_length=64, null=True, blank=True)
    undone_at = models.DateTimeField("annulée le", null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_field = "organisation"
    objects = HandOverQuerySet.as_manager()

    class Meta:
        verbose_name = "remise de carnet"
        verbose_name_plural = "remises de carnets"
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["booklet"], condition=models.Q(undone_at__isnull=True), name="hand_over_one_live_per_booklet"
            ),
            models.UniqueConstraint(fields=["organisation", "submission_key"], name="hand_over_submission_once"),
            models.CheckConstraint(
                condition=models.Q(is_exception=False) | ~models.Q(exception_reason=""),
                name="hand_over_exception_has_reason",
            ),
        ]

    def __str__(self):
        return f"Remise n° {self.pk}"

    @property
    def is_live(self):
        return self.undone_at is None


class LossDeclarationQuerySet(TenantQuerySet, models.QuerySet):
    pass


class LossDeclaration(models.Model):
    """A booklet declared lost or stolen: its unused passes were cancelled."""

    booklet = models.OneToOneField("passes.Booklet", on_delete=models.PROTECT, related_name="+", verbose_name="carnet")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="prescripteur"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hand_over = models.ForeignKey(
        HandOver, on_delete=models.PROTECT, null=True, blank=True, related_name="losses", verbose_name="remise"
    )
    kind = models.CharField("motif", max_length=6, choices=LossKind.choices)
    at = models.DateTimeField("déclaré le")
    cancelled_passes = models.PositiveIntegerField("pass annulés")
    cancelled_value_cents = models.PositiveBigIntegerField("valeur annulée (centimes)")

    tenant_field = "organisation"
    objects = LossDeclarationQuerySet.as_manager()

    class Meta:
        verbose_name = "carnet perdu ou volé"
        verbose_name_plural = "carnets perdus ou volés"
        ordering = ["-at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="loss_declaration_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"Déclaration de perte n° {self.pk}"


# --- Totals for the sponsors' reports, kept by the nightly rollup (services.roll_up_totals) -----
# Only days that can no longer change are rolled up (a hand-over is dated by the server, an undo
# comes within 15 minutes): the reports add to them, live, the hand-overs since ``closed_before``.


class HandOverRollup(models.Model):
    """How far the totals go (one row): every live hand-over before ``closed_before`` (a local
    midnight) is counted in them, none after."""

    closed_before = models.DateTimeField("totaux arrêtés avant le")
    rolled_up_at = models.DateTimeField("calculés le")

    class Meta:
        verbose_name = "calcul des totaux de remises"
        verbose_name_plural = "calculs des totaux de remises"

    def __str__(self):
        return f"Totaux de remises arrêtés avant le {self.closed_before:%d/%m/%Y}"


class HandOverMonthTotal(models.Model):
    """Live hand-overs of a programme's booklets in one month (Europe/Paris, rolled-up days only),
    per prescriber and department of the beneficiary's commune (report periods are whole months)."""

    programme = models.ForeignKey("sponsors.Programme", on_delete=models.CASCADE, related_name="+")
    month = models.DateField("mois (premier jour)")
    prescriber = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    department = models.CharField("département du bénéficiaire", max_length=3)
    count = models.PositiveIntegerField("remises")
    first_at = models.DateTimeField("première remise")
    last_at = models.DateTimeField("dernière remise")

    class Meta:
        verbose_name = "total de remises du mois"
        verbose_name_plural = "totaux de remises par mois"
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "month", "prescriber", "department"], name="hand_over_month_total_once"
            )
        ]

    def __str__(self):
        return f"{self.month:%m/%Y} — {self.count} remises"

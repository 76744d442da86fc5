"""The redemption, the money event of the scheme: a site redeems one or more passes of a booklet
for a service of its catalogue at one of its points de présence. ``RedeemedPass`` holds one
line per pass (one live line per pass, by a partial unique index), ``RefusedScan`` every
refused scan (the stored answer of each ``Idempotency-Key`` is kept by ``passnum.idempotency``).
"""

import pgtrigger
from django.conf import settings
from django.db import models

from clearing.money import euros
from mediators.places.models import PointOfPresence
from mediators.qualification.models import Site, SiteOwnedQuerySet
from passnum.refusals import Refusal


class Redemption(models.Model):
    """Passes of one booklet spent at a site for one service: what the site is reimbursed for.

    Written only by ``mediators.redemption.services.redeem`` in the transaction that locks the passes, moves
    them to ``redeemed`` and journals them. Undone within 24 hours (``undone_at``), never once
    settled on a statement (``settled_at``).
    """

    # A random public id: sites' devices refer to redemptions without learning how many exist.
    id = models.UUIDField(primary_key=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="redemptions", verbose_name="structure")
    point_of_presence = models.ForeignKey(
        PointOfPresence, on_delete=models.PROTECT, related_name="redemptions", verbose_name="lieu"
    )
    service = models.ForeignKey(
        "aptic_catalog.Service", on_delete=models.PROTECT, related_name="+", verbose_name="service #APTIC"
    )
    programme = models.ForeignKey(
        "sponsors.Programme", on_delete=models.PROTECT, related_name="redemptions", verbose_name="programme"
    )
    booklet = models.ForeignKey(
        "passes.Booklet", on_delete=models.PROTECT, related_name="redemptions", verbose_name="carnet"
    )
    pass_count = models.PositiveSmallIntegerField("nombre de pass")
    amount_cents = models.PositiveIntegerField("montant remboursable (centimes)")
    beneficiary_share_cents = models.PositiveIntegerField("reste à charge payé par la personne (centimes)", default=0)
    scanned_at = models.DateTimeField("scanné le")
    redeemed_at = models.DateTimeField("encaissé le", db_index=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="encaissé par",
    )
    undone_at = models.DateTimeField("annulé le", null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="annulé par",
    )
    settled_at = models.DateTimeField("réglé sur un relevé le", null=True, blank=True)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "encaissement"
        verbose_name_plural = "encaissements"
        ordering = ["-redeemed_at"]
        indexes = [models.Index(fields=["site", "redeemed_at"], name="redemption_site_month_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(pass_count__gte=1), name="redemption_at_least_one_pass"),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="redemption_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(beneficiary_share_cents__lte=models.F("amount_cents")),
                name="redemption_share_within_face_value",
            ),
            models.CheckConstraint(
                condition=models.Q(undone_at__isnull=True) | models.Q(settled_at__isnull=True),
                name="redemption_undone_never_settled",
            ),
            models.CheckConstraint(
                condition=models.Q(undone_at__isnull=True) | models.Q(undone_at__gte=models.F("redeemed_at")),
                name="redemption_undone_after_redeemed",
            ),
        ]

    def __str__(self):
        return f"{self.pass_count} pass — {euros(self.amount_cents)}"

    @property
    def is_live(self):
        return self.undone_at is None

    @property
    def amount_display(self):
        return euros(self.amount_cents)


class RedeemedPass(models.Model):
    """One pass of a redemption. The database allows one live line per pass (partial unique
    index): even a bug in the locking could not redeem a pass twice."""

    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="lines")
    pass_ref = models.ForeignKey("passes.Pass", on_delete=models.PROTECT, related_name="+", db_column="pass_id")
    face_value_cents = models.PositiveIntegerField("valeur faciale (centimes)")
    is_live = models.BooleanField("en vigueur", default=True)

    tenant_field = "redemption__site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "pass encaissé"
        verbose_name_plural = "pass encaissés"
        constraints = [
            models.UniqueConstraint(
                fields=["pass_ref"], condition=models.Q(is_live=True), name="redeemed_pass_one_live_per_pass"
            ),
            models.UniqueConstraint(fields=["redemption", "pass_ref"], name="redeemed_pass_once_per_redemption"),
            models.CheckConstraint(condition=models.Q(face_value_cents__gt=0), name="redeemed_pass_value_positive"),
        ]

    def __str__(self):
        return f"Pass {self.pass_ref_id} — encaissement {self.redemption_id}"


class RefusedScan(models.Model):
    """A scan the redemption refused: who, where, which code, why. Append-only."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+", verbose_name="organisation"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    point_of_presence = models.ForeignKey(
        PointOfPresence, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="lieu"
    )
    service = models.ForeignKey(
        "aptic_catalog.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered = models.CharField("code saisi ou scanné", max_length=200)
    reason = models.CharField("raison", max_length=40, choices=Refusal.choices(), db_index=True)
    message = models.CharField("message", max_length=300)
    at = models.DateTimeField("date", db_index=True)
    scanned_at = models.DateTimeField("scanné le", null=True, blank=True)

    tenant_field = "organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "scan refusé"
        verbose_name_plural = "scans refusés"
        ordering = ["-at", "-pk"]
        constraints = [
            # Every reason is a refusal of the one vocabulary (passnum.refusals).
            models.CheckConstraint(condition=models.Q(reason__in=Refusal.values()), name="refused_scan_reason_known"),
        ]
        triggers = [
            pgtrigger.Protect(name="refused_scan_append_only", operation=pgtrigger.Update),
        ]

    def __str__(self):
        return f"{self.entered} — {self.reason}"


# --- Totals for the sponsors' reports, kept by the nightly rollup (services.roll_up_totals) -----
# Only days that can no longer change are rolled up (redeemed_at is the server's time, an undo
# comes within 24 hours): the reports add to them, live, the redemptions since ``closed_before``.


class RedemptionRollup(models.Model):
    """How far the totals go (one row): every live redemption before ``closed_before`` (a local
    midnight) is counted in them, none after."""

    closed_before = models.DateTimeField("totaux arrêtés avant le")
    rolled_up_at = models.DateTimeField("calculés le")

    class Meta:
        verbose_name = "calcul des totaux d'encaissements"
        verbose_name_plural = "calculs des totaux d'encaissements"

    def __str__(self):
        return f"Totaux d'encaissements arrêtés avant le {self.closed_before:%d/%m/%Y}"


class RedemptionDayTotal(models.Model):
    """Live redemptions of a programme on one day (Europe/Paris): the reports' time series."""

    programme = models.ForeignKey("sponsors.Programme", on_delete=models.CASCADE, related_name="+")
    day = models.DateField("jour")
    count = models.PositiveIntegerField("encaissements")
    passes = models.PositiveIntegerField("pass")
    cents = models.BigIntegerField("montant (centimes)")

    class Meta:
        verbose_name = "total d'encaissements du jour"
        verbose_name_plural = "totaux d'encaissements par jour"
        constraints = [models.UniqueConstraint(fields=["programme", "day"], name="redemption_day_total_once")]

    def __str__(self):
        return f"{self.day:%d/%m/%Y} — {self.count} encaissements"


class RedemptionPlaceMonthTotal(models.Model):
    """Live redemptions of a programme in one month (Europe/Paris, rolled-up days only) per site and
    point de présence: the reports' breakdowns by place (report periods are whole months)."""

    programme = models.ForeignKey("sponsors.Programme", on_delete=models.CASCADE, related_name="+")
    month = models.DateField("mois (premier jour)")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    point_of_presence = models.ForeignKey(PointOfPresence, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField("encaissements")
    passes = models.PositiveIntegerField("pass")
    cents = models.BigIntegerField("montant (centimes)")

    class Meta:
        verbose_name = "total d'encaissements du mois par lieu"
        verbose_name_plural = "totaux d'encaissements par mois et par lieu"
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "month", "site", "point_of_presence"], name="redemption_place_month_total_once"
            )
        ]

    def __str__(self):
        return f"{self.month:%m/%Y} — {self.count} encaissements"


class RedemptionServiceMonthTotal(models.Model):
    """Live redemptions of a programme in one month (Europe/Paris, rolled-up days only) per service
    of the referential: the reports' breakdown by service (kept apart from places: one table of
    both would hold nearly a row per redemption)."""

    programme = models.ForeignKey("sponsors.Programme", on_delete=models.CASCADE, related_name="+")
    month = models.DateField("mois (premier jour)")
    service = models.ForeignKey("aptic_catalog.Service", on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField("encaissements")
    passes = models.PositiveIntegerField("pass")
    cents = models.BigIntegerField("montant (centimes)")

    class Meta:
        verbose_name = "total d'encaissements du mois par service"
        verbose_name_plural = "totaux d'encaissements par mois et par service"
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "month", "service"], name="redemption_service_month_total_once"
            )
        ]

    def __str__(self):
        return f"{self.month:%m/%Y} — {self.count} encaissements"

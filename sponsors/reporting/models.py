"""Exports run in the background: a sponsor's report or the operator's rows, kept 7 days."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from passnum.organisations.tenancy import TenantQuerySet


class ExportKind(models.TextChoices):
    PROGRAMME_REPORT = "programme_report", "Rapport d'un programme (agrégats)"
    REDEMPTIONS = "redemptions", "Encaissements, une ligne par encaissement"
    HAND_OVERS = "hand_overs", "Remises de carnets, une ligne par remise"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV (tableur, séparateur point-virgule)"
    XLSX = "xlsx", "Classeur Excel (XLSX)"


class ExportJobQuerySet(TenantQuerySet, models.QuerySet):
    pass


class ExportJob(models.Model):
    """An export above ``PASSNUM_EXPORT_ASYNC_ROWS`` rows, written by a Celery task.

    ``organisation`` is the sponsor whose report it is; empty for the operator's row-level
    exports (its staff only). The file is stored through ``STORAGES["default"]`` under an
    unguessable name, downloadable until ``expires_at``, then purged (``purge_expired_exports``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "en attente"
        RUNNING = "running", "en cours"
        DONE = "done", "prêt"
        FAILED = "failed", "échoué"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="demandé par"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation (vide : l'opérateur)",
    )
    kind = models.CharField("contenu", max_length=20, choices=ExportKind.choices)
    file_format = models.CharField("format", max_length=4, choices=ExportFormat.choices)
    params = models.JSONField("paramètres", default=dict, blank=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    row_count = models.PositiveIntegerField("lignes à écrire", default=0)
    rows_done = models.PositiveIntegerField("lignes écrites", default=0)
    file = models.FileField("fichier", upload_to="exports/", blank=True, max_length=300)
    file_name = models.CharField("nom du fichier", max_length=200)
    error = models.TextField("erreur", blank=True)
    created_at = models.DateTimeField("demandé le", default=timezone.now)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    expires_at = models.DateTimeField("lien valable jusqu'au", db_index=True)
    purged_at = models.DateTimeField("fichier supprimé le", null=True, blank=True)

    tenant_field = "organisation"
    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = "export"
        verbose_name_plural = "exports"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Export n° {self.pk} — {self.file_name}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, self.rows_done * 100 // self.row_count) if self.row_count else 0

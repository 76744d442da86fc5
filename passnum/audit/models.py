import pgtrigger
from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """An append-only record of a sensitive action: who, when, what, before and after.

    The database itself refuses UPDATE and DELETE on this table (a trigger on PostgreSQL).
    """

    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
        db_constraint=False,
    )
    # Kept as text so the record survives the deletion of the account.
    actor_email = models.CharField("e-mail de l'auteur", max_length=254, blank=True)
    organisation_id = models.BigIntegerField("organisation concernée", null=True, blank=True, db_index=True)
    organisation_name = models.CharField("nom de l'organisation", max_length=200, blank=True)
    action = models.CharField("action", max_length=100, db_index=True)
    target_type = models.CharField("type d'objet", max_length=100, blank=True)
    target_id = models.CharField("identifiant", max_length=64, blank=True)
    target_repr = models.CharField("objet", max_length=255, blank=True)
    before = models.JSONField("avant", null=True, blank=True)
    after = models.JSONField("après", null=True, blank=True)
    ip_address = models.GenericIPAddressField("adresse IP", null=True, blank=True)

    class Meta:
        verbose_name = "entrée du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-created_at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="audit_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.actor_email or 'système'} : {self.action}"

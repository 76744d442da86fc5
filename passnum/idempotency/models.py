"""The first answer to a request sent with an ``Idempotency-Key``, for every API that takes one."""

from django.db import models

from passnum.organisations.tenancy import TenantQuerySet


class StoredAnswerQuerySet(TenantQuerySet, models.QuerySet):
    pass


class StoredAnswer(models.Model):
    """The answer as it was sent (status and body bytes), replayed as is for a retry.

    The body is kept as text, not as JSON: PostgreSQL's jsonb would reorder its keys, and a
    replay must be byte-identical. ``scope`` names the API (``redemptions``, ``distributions``):
    a key is unique per organisation and scope. ``subject`` is the id of what the first request
    created (a redemption, a hand-over), empty for a refusal."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField("point d'accès", max_length=50)
    key = models.CharField("clé", max_length=100)
    request_hash = models.CharField("empreinte de la requête", max_length=64)
    status_code = models.PositiveSmallIntegerField("statut")
    body = models.TextField("réponse (JSON, telle qu'envoyée)")
    subject = models.CharField("objet créé", max_length=64, blank=True, default="")
    created_at = models.DateTimeField("créé le")

    tenant_field = "organisation"
    objects = StoredAnswerQuerySet.as_manager()

    class Meta:
        db_table = "passnum_idempotency_answer"
        verbose_name = "clé d'idempotence"
        verbose_name_plural = "clés d'idempotence"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "scope", "key"], name="idempotency_answer_once"),
        ]

    def __str__(self):
        return f"{self.scope} {self.key}"

"""Tables of the project itself: what must survive a Redis outage."""

from django.db import models


class OutboxTask(models.Model):
    """A Celery task whose submission failed (broker unreachable): sent again by ``drain_outbox``
    (command, and a periodic task once the broker is back). Never lost, sent at least once: tasks
    are written to be re-run safely."""

    task_name = models.CharField("tâche", max_length=200)
    args = models.JSONField("arguments", default=list)
    kwargs = models.JSONField("arguments nommés", default=dict)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    attempts = models.PositiveIntegerField("essais d'envoi", default=1)
    last_error = models.TextField("dernière erreur", blank=True)

    class Meta:
        verbose_name = "tâche en attente d'envoi"
        verbose_name_plural = "tâches en attente d'envoi"
        ordering = ["pk"]

    def __str__(self):
        return f"{self.task_name} ({self.created_at:%d/%m/%Y %H:%M})"


class RateLimitCounter(models.Model):
    """A rate-limit window counted in PostgreSQL while Redis is unreachable (``passnum/ratelimit.py``):
    one row per key and window, incremented by one upsert."""

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "passnum_ratelimitcounter"  # named in the upsert of passnum/ratelimit.py
        verbose_name = "compteur de limite (secours)"

    def __str__(self):
        return f"{self.key} = {self.count}"

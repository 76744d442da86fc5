from celery import shared_task
from django.utils import timezone

from passnum import outbox
from passnum.models import RateLimitCounter


@shared_task
def drain_outbox():
    """Sends the tasks kept while the broker was unreachable (runs once it is back)."""
    return outbox.drain()


@shared_task
def purge_rate_limit_counters():
    """Drops the expired windows counted in PostgreSQL during a Redis outage."""
    return RateLimitCounter.objects.filter(expires_at__lt=timezone.now()).delete()[0]

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from passnum import mail, outbox
from passnum.models import RateLimitCounter

logger = logging.getLogger("passnum.mail")


@shared_task
def drain_outbox():
    """Sends the tasks kept while the broker was unreachable (runs once it is back)."""
    return outbox.drain()


@shared_task
def purge_rate_limit_counters():
    """Drops the expired windows counted in PostgreSQL during a Redis outage."""
    return RateLimitCounter.objects.filter(expires_at__lt=timezone.now()).delete()[0]


@shared_task(bind=True, max_retries=80)
def send_email(self, *, subject, body, to, attachments=(), html="", from_email=None):
    """Sends one e-mail (``passnum.mail.send_after_commit``). While the SMTP server is stopped or
    refuses, retried with a delay doubling up to an hour (about three days in all), then kept in
    the outbox: never lost."""
    kwargs = {
        "subject": subject,
        "body": body,
        "to": to,
        "attachments": attachments,
        "html": html,
        "from_email": from_email,
    }
    try:
        mail.deliver(**kwargs)
    except FileNotFoundError:  # an attachment deleted since (a purged print file): never sendable
        logger.error("E-mail « %s » abandonné : sa pièce jointe n'existe plus.", subject)
        return False
    except mail.TEMPORARY_FAILURES as error:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            mail.keep_for_later(task_name=self.name, kwargs=kwargs, error=error)
            return False
        delay = min(settings.PASSNUM_MAIL_RETRY_SECONDS * 2**self.request.retries, 3600)
        raise self.retry(exc=error, countdown=delay) from error
    return True

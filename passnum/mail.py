"""E-mails of Passnum: sent by a Celery task once the transaction has committed, and retried while
the SMTP server is stopped or refuses (4xx/5xx). A user action never fails because the mail server
is down, and no mail is lost: a worker retries with a growing delay, the embedded default (tasks run
in-process) keeps the mail in the outbox (``passnum/outbox.py``) until ``drain_outbox`` sends it.

Attachments travel as names in the file store (``default_storage``), read when the mail is sent:
a task's arguments stay small JSON, and a PDF stored on S3 is attached the same way."""

import logging
import smtplib
from functools import partial

from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from passnum import outbox
from passnum.storage import StorageUnavailable

logger = logging.getLogger("passnum.mail")

# What a stopped or refusing server raises (refused connection, timeout, any SMTP reply error), and
# a file store that cannot give an attachment back for now.
TEMPORARY_FAILURES = (smtplib.SMTPException, OSError, StorageUnavailable)


def queue(
    *,
    subject: str,
    body: str,
    to: list[str],
    attachments: list[tuple[str, str, str]] = (),
    html: str = "",
    from_email: str | None = None,
) -> None:
    """Hands an e-mail to the mail task now; ``attachments``: ``(file name, name in the file
    store, content type)``."""
    from passnum.tasks import send_email

    outbox.submit(
        send_email,
        subject=subject,
        body=body,
        to=list(to),
        attachments=[list(attachment) for attachment in attachments],
        html=html,
        from_email=from_email,
    )


def send_after_commit(**message) -> None:
    """``queue(**message)`` once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(partial(queue, **message))


def deliver(
    *,
    subject: str,
    body: str,
    to: list[str],
    attachments: list[list[str]] = (),
    html: str = "",
    from_email: str | None = None,
) -> None:
    """Builds and sends the message now (raises one of ``TEMPORARY_FAILURES`` when it cannot)."""
    message = EmailMultiAlternatives(subject, body, from_email, to)
    if html:
        message.attach_alternative(html, "text/html")
    for filename, name, content_type in attachments:
        with default_storage.open(name, "rb") as handle:
            message.attach(filename, handle.read(), content_type)
    message.send()


def keep_for_later(*, task_name: str, kwargs: dict, error: Exception) -> None:
    """No queue to retry from (tasks run in-process): the mail waits in the outbox."""
    from passnum.models import OutboxTask

    logger.warning("Serveur d'e-mails injoignable, message « %s » mis en attente : %s", kwargs["subject"], error)
    OutboxTask.objects.create(task_name=task_name, kwargs=kwargs, last_error=str(error)[:1000])

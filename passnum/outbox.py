"""Submitting Celery tasks without ever losing one: when the broker (Redis) cannot be reached,
the task's name and JSON arguments are written to ``OutboxTask`` and sent again later by
``drain()`` (command ``drain_outbox``, periodic task ``passnum.tasks.drain_outbox``).

Every task started after a COMMIT goes through ``submit_on_commit(task, *args)``. Without a broker
(tasks run in-process), the only rows are e-mails the SMTP server refused (``passnum/mail.py``):
``drain()`` then runs them here, and one still refused is kept again as a new row."""

import logging
from functools import partial

from django.db import transaction

from passnum.models import OutboxTask

logger = logging.getLogger("passnum.outbox")


def submit(task, *args, **kwargs):
    """``task.delay(*args, **kwargs)``, or a row of the outbox when the broker is unreachable."""
    if task.app.conf.task_always_eager:  # in-process (embedded default, tests): no broker to miss
        return task.apply_async(args, kwargs)
    try:
        return task.apply_async(args, kwargs)
    except Exception as error:  # noqa: BLE001 - kombu, redis-py or socket errors: keep the task
        logger.warning("File Celery injoignable, tâche %s mise en attente : %s", task.name, error)
        OutboxTask.objects.create(task_name=task.name, args=list(args), kwargs=kwargs, last_error=str(error)[:1000])
        return None


def submit_on_commit(task, *args, **kwargs):
    """Submits the task once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(partial(submit, task, *args, **kwargs))


def pending_count() -> int:
    return OutboxTask.objects.count()


def drain(*, limit: int = 1000) -> int:
    """Sends the waiting tasks in order; stops at the first failure (the broker is still down).
    Rows are taken ``FOR UPDATE SKIP LOCKED``: two drains never send the same task twice."""
    from passnum.celery import app

    sent = 0
    with transaction.atomic():
        rows = list(OutboxTask.objects.select_for_update(skip_locked=True).order_by("pk")[:limit])
        for row in rows:
            try:
                if app.conf.task_always_eager:  # no broker (embedded default): run it here
                    app.tasks[row.task_name].apply(args=row.args, kwargs=row.kwargs, throw=True)
                else:
                    app.send_task(row.task_name, args=row.args, kwargs=row.kwargs)
            except Exception as error:  # noqa: BLE001 - still unreachable: try again later
                OutboxTask.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, last_error=str(error)[:1000])
                logger.warning("File Celery toujours injoignable : %s tâche(s) en attente.", len(rows) - sent)
                break
            row.delete()
            sent += 1
    return sent

"""E-mails through a real SMTP server (aiosmtpd, started by the test on a free local port, with
Django's SMTP backend): an invitation arrives; a server answering 4xx/5xx or stopped never fails
the user action, and the mail is delivered once, when the server is back — kept in the outbox when
tasks run in-process, retried by a real Celery worker otherwise."""

import pytest

from passnum import outbox
from passnum.models import OutboxTask
from passnum.organisations import services as organisation_services
from tests.factories import OrganisationFactory
from tests.production.test_workers import wait_until


def invite(organisation, address):
    return organisation_services.invite(organisation=organisation, email=address, role="member", invited_by=None)


@pytest.mark.django_db
def test_an_invitation_arrives_through_a_real_smtp_server(smtp_server, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(name="Médiathèque de Brest")
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(organisation, "camille@example.org")

    (message,) = smtp_server.mailbox.messages
    assert message["To"] == "camille@example.org"
    assert message["Subject"].strip() == "Invitation à rejoindre Médiathèque de Brest sur Passnum"
    assert f"/{invitation.token}" in message.get_content()
    assert not OutboxTask.objects.exists()


@pytest.mark.django_db
def test_a_refusing_then_stopped_server_keeps_the_mail_until_back(smtp_server, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(name="Centre social Nord")
    smtp_server.mailbox.refusal = "451 4.3.0 Service momentanément indisponible"
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(organisation, "alex@example.org")  # the user action succeeds

    assert invitation.pk and smtp_server.mailbox.messages == []
    (kept,) = OutboxTask.objects.all()
    assert kept.task_name == "passnum.tasks.send_email" and kept.kwargs["to"] == ["alex@example.org"]
    assert "451" in kept.last_error

    smtp_server.stop()  # now not even listening: still kept
    outbox.drain()
    (kept,) = OutboxTask.objects.all()
    assert "Connection refused" in kept.last_error and smtp_server.mailbox.messages == []

    smtp_server.mailbox.refusal = None
    smtp_server.start()  # back
    outbox.drain()
    assert not OutboxTask.objects.exists()
    (message,) = smtp_server.mailbox.messages  # delivered once
    assert message["To"] == "alex@example.org" and f"/{invitation.token}" in message.get_content()
    outbox.drain()
    assert len(smtp_server.mailbox.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_a_refused_mail_until_the_server_accepts_it(smtp_server, start_worker):
    smtp_server.mailbox.refusal = "554 5.3.0 Refusé pour le moment"
    worker = start_worker(concurrency=1, PASSNUM_MAIL_RETRY_SECONDS="1", **smtp_server.environment())
    organisation = OrganisationFactory(name="Espace numérique Sud")

    invitation = invite(organisation, "sam@example.org")  # queued to Redis, sent by the worker

    wait_until(lambda: "Retry in" in worker.output(), timeout=60, message="a first refusal retried")
    assert smtp_server.mailbox.messages == []
    smtp_server.mailbox.refusal = None
    wait_until(lambda: smtp_server.mailbox.messages, timeout=60, message="mail delivered")
    wait_until(lambda: "passnum.tasks.send_email" in worker.output() and "succeeded" in worker.output(), timeout=30)
    (message,) = smtp_server.mailbox.messages
    assert message["To"] == "sam@example.org" and f"/{invitation.token}" in message.get_content()
    assert not OutboxTask.objects.exists()

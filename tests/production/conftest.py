"""Real processes for the production tests: Celery workers, gunicorn and beat started as
subprocesses on the test PostgreSQL database and the test Redis, exactly as deployed; a real SMTP
server (aiosmtpd) on a free local port."""

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from passnum.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def database_url():
    """The URL of the database the tests run on (``test_…``), for the subprocesses."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(media_root, **extra):
    env = {key: value for key, value in os.environ.items() if key != "CELERY_TASK_ALWAYS_EAGER"}
    env.update(
        PASSNUM_ENV="test",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        DJANGO_MEDIA_ROOT=str(media_root),
        # A vanished worker's messages come back after 5 s instead of an hour.
        CELERY_VISIBILITY_TIMEOUT="5",
        CELERY_UNACKED_MUTEX_EXPIRE="5",  # a worker killed while giving tasks back must not stall the others
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Process:
    """A subprocess in its own process group (so that SIGKILL reaches its children too)."""

    def __init__(self, args, env, log_path):
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop())
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self):
        return Path(self.log_path).read_text(errors="replace")

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.popen.poll() is not None:
                raise AssertionError(f"process exited ({self.popen.returncode}):\n{self.output()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not seen in {timeout} s:\n{self.output()[-3000:]}")

    def kill(self):
        """SIGKILL to the whole group: the main process and its pool children die at once."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def broker():
    """Tasks go to the real Redis queue (not run in this process), which starts empty."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    yield celery_app
    celery_app.control.purge()
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def start_worker(media_root, tmp_path, broker):
    """``start_worker(concurrency=2)`` → a running ``celery -A passnum worker``, stopped at the end."""
    started = []

    def start(concurrency=2, **env):
        name = f"test-{uuid.uuid4().hex[:8]}@%h"
        worker = Process(
            [
                str(BIN / "celery"),
                "-A",
                "passnum",
                "worker",
                "-n",
                name,
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            process_env(media_root, **env),
            tmp_path / f"worker-{len(started)}.log",
        )
        started.append(worker)
        worker.wait_for("ready.")
        return worker

    yield start
    for worker in started:
        worker.stop()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps each message received, or answers ``refusal`` (e.g. a 451)."""

    def __init__(self):
        self.messages = []
        self.refusal = None

    async def handle_DATA(self, server, session, envelope):
        if self.refusal:
            return self.refusal
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def environment(self):
        """The same server for a worker subprocess."""
        return {
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }


@pytest.fixture
def smtp_server(settings):
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()

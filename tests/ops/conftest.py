"""A Redis of our own, stopped and restarted for real by the tests of tests/ops/."""

import socket
import subprocess
import time

import pytest
import redis

from passnum.cache import TolerantRedisCache
from passnum.celery import app as celery_app


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self):
        """Kills the server by its PID (no shutdown, no save): a crash, as in production."""
        self.process.kill()
        self.process.wait()

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)


def _reset_celery_connections():
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


@pytest.fixture
def redis_server(settings):
    """A real redis-server on a free port; the cache and the Celery broker point at it, and
    tasks are really sent (not run in-process)."""
    server = RedisServer()
    server.start()
    try:
        yield from _pointed_at(server, settings)
    finally:
        if server.process.poll() is None:
            server.kill()


def _pointed_at(server, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "passnum.cache.TolerantRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
    settings.CELERY_BROKER_URL = server.url
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    celery_app.conf.update(broker_url=server.url, result_backend=server.url, task_always_eager=False)
    _reset_celery_connections()
    TolerantRedisCache._down_until = 0.0
    try:
        yield server
    finally:
        celery_app.conf.update(saved)
        _reset_celery_connections()
        TolerantRedisCache._down_until = 0.0

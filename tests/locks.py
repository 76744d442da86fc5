"""Lock orchestration for the concurrency tests: real PostgreSQL connections driven step by step,
so that a race is played in one chosen order instead of whatever order the threads happen to run.

- ``Session()``: one thread with its own database connection; ``session.submit(function)`` runs
  the function there and returns a ``Future`` (a statement that waits for a lock leaves its
  future pending); ``session.execute(sql)`` runs raw SQL (``BEGIN`` … ``COMMIT`` span calls).
- ``wait_until_blocked(pid)``: returns once the backend ``pid`` is waiting for a lock (held by
  ``by`` when given), as PostgreSQL itself reports it (``pg_blocking_pids``): the next step of
  the race starts only when the previous one has really reached its lock.
"""

import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, connections

# A bound, not a measure: a step that never blocks fails the test instead of hanging it.
BLOCK_DEADLINE_S = 30


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def blocking_pids(pid):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_blocking_pids(%s)", [pid])
        return set(cursor.fetchone()[0])


def wait_until_blocked(pid, *, by=None, what="la connexion"):
    """Returns the pids ``pid`` waits for, once it waits for a lock (held by ``by``, if given)."""
    deadline = time.monotonic() + BLOCK_DEADLINE_S
    while True:
        blockers = blocking_pids(pid)
        if blockers and (by is None or blockers == {by}):
            return blockers
        if time.monotonic() > deadline:
            expected = f"par {by}" if by is not None else ""
            raise AssertionError(f"{what} (pid {pid}) n'attend jamais un verrou {expected} (bloquée par {blockers})")
        time.sleep(0.005)


class Session:
    """A database connection of its own, in its own thread."""

    def __init__(self):
        self._executor = ThreadPoolExecutor(max_workers=1)
        self.pid = self.submit(backend_pid).result()

    def submit(self, function, *args, **kwargs):
        return self._executor.submit(function, *args, **kwargs)

    def execute(self, sql, params=None):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else None

        return self.submit(run)

    def close(self):
        """Closes the connection (rolling back what is open) and ends the thread."""
        self.submit(connections.close_all).result()
        self._executor.shutdown()

"""Prepared statements for the hot paths (PostgreSQL).

Django sends each query as text, with its parameters inlined (client-side binding): PostgreSQL
parses and plans it every time. For the few statements the hot paths repeat on every request
(the API token look-up, the redemption's reading and its write), ``prepared_cursor`` binds the
parameters on the server and prepares each statement on its first use on a connection
(``prepare_threshold`` of the settings): later executions skip parsing and planning. The rest
of the app keeps Django's ordinary cursors. Elsewhere (SQLite) it is Django's cursor.

Prepared statements live in a database session: a connection pooler in transaction mode
(PgBouncer before 1.21) would need ``prepare_threshold`` left unset, which turns this off.
"""

import contextlib

from django.db import connection


@contextlib.contextmanager
def prepared_cursor():
    """A Django cursor (errors wrapped, queries logged in debug) whose statements PostgreSQL
    prepares once per connection."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    # What connection.cursor() does (a reused connection checked once per request, as
    # CONN_HEALTH_CHECKS asks), with the server-binding cursor class instead of the
    # connection's client-binding one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    cursor = connection._prepare_cursor(ServerBindingCursor(connection.connection))
    try:
        yield cursor
    finally:
        cursor.close()

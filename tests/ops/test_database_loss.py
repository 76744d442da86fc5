"""PostgreSQL backends terminated (``pg_terminate_backend``) under requests: the requests in
flight answer a JSON 503 and write nothing (passes, journal, redemptions and idempotency keys stay
consistent), and the next requests of the same worker thread succeed on a fresh connection.

Requests go through Django's WSGI handler in threads, as a server worker runs them: each thread
has its own persistent connection (``CONN_MAX_AGE``), closed or checked by Django's
``request_started``/``request_finished`` handlers, which the test client would bypass."""

import io
import json
import threading
import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.test import RequestFactory

from mediators.redemption.models import Redemption
from passnum.idempotency.models import StoredAnswer
from passnum.organisations.services import create_api_token
from passnum.passes.models import Pass, PassJournal, PassState
from tests.mediators.factories import redeemable_booklet, redeeming_site

pytestmark = pytest.mark.django_db(transaction=True)

HANDLER = WSGIHandler()


def call(method, path, token, body=None, **headers):
    """One request through the WSGI handler; returns (status, decoded JSON body)."""
    request = RequestFactory().generic(
        method,
        path,
        data=json.dumps(body) if body is not None else "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    )
    environ = dict(request.environ, **{"wsgi.input": io.BytesIO(request.body)})
    started = {}
    result = HANDLER(environ, lambda status, response_headers: started.update(status=int(status.split()[0])))
    try:
        content = b"".join(result)
    finally:
        result.close()  # request_finished: Django drops a broken connection here
    return started["status"], json.loads(content) if content else None


def backends_waiting_on_a_lock(count):
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            pids = [row[0] for row in cursor.fetchall()]
            if len(pids) >= count or time.monotonic() > deadline:
                return pids
            time.sleep(0.05)


@pytest.fixture
def scanning():
    place = redeeming_site()
    _token, key = create_api_token(organisation=place.organisation, user=place.user, name="tablette")
    passes = list(redeemable_booklet().passes.order_by("position"))
    return place, key, passes


def body_for(place, pass_):
    return {"codes": [pass_.code], "service": place.item.service.code, "point_of_presence": place.point.pk}


def test_requests_in_flight_answer_503_write_nothing_and_the_next_ones_succeed(scanning):
    place, token, passes = scanning
    in_flight = passes[:3]
    # Another connection holds the journal: each redemption stops inside its transaction, at
    # the journal's INSERT, with its passes already locked and updated.
    blocker = connection.get_new_connection(connection.get_connection_params())
    blocker.execute(f"LOCK TABLE {PassJournal._meta.db_table} IN EXCLUSIVE MODE")
    released = threading.Event()
    firsts, results = [], {}

    def worker(pass_):
        try:
            key = f"cle-{pass_.pk}"
            first = call("POST", "/api/v1/redemptions", token, body_for(place, pass_), **{"Idempotency-Key": key})
            firsts.append(first)
            released.wait(30)
            again = call("POST", "/api/v1/redemptions", token, body_for(place, pass_), **{"Idempotency-Key": key})
            results[pass_.pk] = (first, again)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(pass_,)) for pass_ in in_flight]
    for thread in threads:
        thread.start()
    try:
        waiting = backends_waiting_on_a_lock(len(in_flight))
        assert len(waiting) == len(in_flight)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [waiting])
        deadline = time.monotonic() + 30
        while len(firsts) < len(in_flight) and time.monotonic() < deadline:
            time.sleep(0.05)
        # The lost transactions left nothing: no redemption, no key, no journal entry, passes active.
        assert not Redemption.objects.exists() and not StoredAnswer.objects.exists()
        assert not PassJournal.objects.filter(pass_ref__in=in_flight, kind="redeemed").exists()
        assert {p.state for p in Pass.objects.filter(pk__in=[p.pk for p in in_flight])} == {PassState.ACTIVE}
    finally:
        blocker.rollback()
        blocker.close()
        released.set()  # the workers retry, with the same keys, on fresh connections
        for thread in threads:
            thread.join(60)

    for first, again in results.values():
        assert first[0] == 503 and first[1]["error"]["code"] == "database_unavailable"
        assert again[0] == 201, again
    assert len(results) == len(in_flight)
    # Exactly once: one redemption, one key, one journal entry per pass, all passes redeemed.
    for pass_ in in_flight:
        pass_.refresh_from_db()
        assert pass_.state == PassState.REDEEMED
        assert Redemption.objects.filter(lines__pass_ref=pass_).count() == 1
        assert PassJournal.objects.filter(pass_ref=pass_, kind="redeemed").count() == 1
    assert StoredAnswer.objects.count() == len(in_flight)
    assert Redemption.objects.count() == len(in_flight)


def test_a_persistent_connection_killed_while_idle_is_replaced_before_reuse(scanning):
    """CONN_HEALTH_CHECKS: the worker's kept connection is checked at the next request."""
    place, token, passes = scanning
    seen = {}
    killed = threading.Event()
    done = threading.Event()

    def worker():
        try:
            seen["first"] = call("GET", f"/api/v1/passes/{passes[0].code}", token)
            seen["pid"] = connections["default"].connection.info.backend_pid  # kept (CONN_MAX_AGE)
            done.set()
            killed.wait(30)
            seen["second"] = call("GET", f"/api/v1/passes/{passes[0].code}", token)
            seen["new_pid"] = connections["default"].connection.info.backend_pid
        finally:
            done.set()
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    done.wait(30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [seen["pid"]])
    killed.set()
    thread.join(60)
    assert seen["first"][0] == 200 and seen["first"][1]["state"] == PassState.ACTIVE
    assert seen["second"][0] == 200, seen["second"]
    assert seen["new_pid"] != seen["pid"]

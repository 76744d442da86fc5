"""A pass is redeemed at most once under any race: real threads, each with its own
PostgreSQL connection, firing at the API at the same moment — and, where the outcome must not
depend on which thread runs first, real connections driven step by step (``tests.locks``)."""

import json
import threading
import uuid
from functools import partial

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from mediators.redemption import services
from mediators.redemption.models import RedeemedPass, Redemption, RefusedScan
from passnum.errors import DomainError
from passnum.idempotency.models import StoredAnswer
from passnum.organisations.services import create_api_token
from passnum.passes.models import JournalKind, PassJournal, PassState
from passnum.passes.selectors import value_by_state
from tests.locks import Session, wait_until_blocked
from tests.mediators.factories import redeem_passes, redeemable_booklet, redeeming_site

pytestmark = pytest.mark.django_db(transaction=True)


def fire(count, make_request):
    """Runs ``make_request(index)`` in ``count`` threads released together; returns the answers."""
    answers, lock, barrier = [None] * count, threading.Lock(), threading.Barrier(count)
    contents = [None] * count

    def run(index):
        try:
            barrier.wait()
            response = make_request(index)
            with lock:
                answers[index] = (response.status_code, response.json())
                contents[index] = response.content
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_cache_connections()
    fire.contents = contents  # the bodies as sent, byte for byte
    return answers


def close_cache_connections():
    """The threads share one cache client (the failed look-ups counter), thread-safe: its sockets
    are closed once every thread is done — closed by one thread, they would fail another's reading."""
    for pool in getattr(getattr(cache, "_cache", None), "_pools", {}).values():
        pool.disconnect()


def client_for(place):
    _token, key = create_api_token(organisation=place.organisation, user=place.user, name="tablette")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def post(client, body, key):
    return client.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_fifty_concurrent_redemptions_of_one_pass_give_one_success():
    """Proves the row lock ``SELECT … FOR UPDATE OF pass`` with the guarded update (``state =
    'active'``), backed by the partial unique index ``redeemed_pass_one_live_per_pass``: exactly one
    of fifty simultaneous redemptions succeeds, the others are told the pass is already redeemed."""
    place, booklet = redeeming_site(), redeemable_booklet()
    pass_ = booklet.passes.order_by("position").first()
    issued = sum(value_by_state(booklet.programme).values())
    body = {"codes": [pass_.code], "service": place.item.service.code, "point_of_presence": place.point.pk}

    clients = [client_for(place) for _ in range(50)]  # tokens made before the threads are released

    answers = fire(50, lambda index: post(clients[index], body, f"scan-{index}"))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 49
    refusals = {body["error"]["code"] for status, body in answers if status == 409}
    assert refusals == {"pass_already_redeemed"}
    pass_.refresh_from_db()
    assert pass_.state == PassState.REDEEMED
    assert Redemption.objects.count() == 1 and RedeemedPass.objects.count() == 1
    assert PassJournal.objects.filter(pass_ref=pass_, kind=JournalKind.REDEEMED).count() == 1
    assert RefusedScan.objects.filter(reason="pass_already_redeemed").count() == 49
    values = value_by_state(booklet.programme)
    assert values[PassState.REDEEMED] == pass_.face_value_cents and sum(values.values()) == issued


def test_twenty_concurrent_replays_of_one_key_redeem_once_and_answer_the_same():
    """Proves the unique constraint on the stored answer (organisation, scope, key) written in the
    redemption's transaction: concurrent replays wait on it, roll back and answer the stored reply."""
    place, booklet = redeeming_site(), redeemable_booklet()
    pass_ = booklet.passes.order_by("position").first()
    body = {"codes": [pass_.code], "service": place.item.service.code, "point_of_presence": place.point.pk}
    client_key = str(uuid.uuid4())

    clients = [client_for(place) for _ in range(20)]

    answers = fire(20, lambda index: post(clients[index], body, client_key))

    assert answers[0][0] == 201
    assert all(answer == answers[0] for answer in answers)
    assert len(set(fire.contents)) == 1  # the same bytes for every duplicate
    assert Redemption.objects.count() == 1
    assert StoredAnswer.objects.filter(scope="redemptions", key=client_key).count() == 1
    assert not RefusedScan.objects.exists()


# The order a statement meets rows in when it reads the table without an index and joins by
# nested loops: the order they lie in the table, which an update changes (the new version of a
# row is written after the others). PostgreSQL may choose such plans (statistics change, tables
# grow); the redeeming connections are made to, so that only the statements' own ORDER BY can
# keep the locks in id order.
TABLE_ORDER_PLANS = (
    "SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; "
    "SET enable_hashjoin = off; SET enable_mergejoin = off"
)


def redeem_pair(place, passes, key):
    status, body = services.redeem_once(
        place.organisation, key=key, request_hash=key, user=place.user, codes_entered=[p.code for p in passes],
        service_code=place.item.service.code, point_id=place.point.pk,
    )  # fmt: skip
    return status, json.loads(body)


@pytest.mark.parametrize("path", ["optimistic", "locked"])
def test_a_redemption_locks_its_passes_in_id_order_whatever_order_it_meets_them_in(path):
    """Proves that the pass row locks are taken in id order (``ORDER BY id`` of the redemption's
    write statement, ``ORDER BY pass.id`` of the locked path's reading), whatever order the plan
    meets the rows in. That order is what keeps two redemptions sharing passes from deadlocking:
    read in table order, two statements started on either side of an update that moved a row
    would meet the same passes in opposite orders, each holding the one the other waits for.

    Played step by step on real connections: the lower pass's row is moved after the other in
    the table (an update), a gate holds the higher pass, redemption A starts and waits for it.
    A must hold the lower pass meanwhile — read in table order it would hold nothing. Then
    redemption B starts and queues; the gate lets go: one redemption, « already redeemed » for
    the other."""
    place, booklet = redeeming_site(passes_required=2), redeemable_booklet()
    first, second = booklet.passes.order_by("pk")[:2]
    redeem = partial(locked_redemption if path == "locked" else redeem_pair, place, [first, second])
    gate, a, b = sessions = [Session() for _ in range(3)]  # closed in this order: the gate first
    try:
        for redeeming in (a, b):
            redeeming.execute(TABLE_ORDER_PLANS).result()
        gate.execute("UPDATE passes_pass SET state = state WHERE id = %s", [first.pk]).result()
        (table_order,) = gate.execute(
            "SELECT array_agg(id ORDER BY ctid) FROM passes_pass WHERE id IN (%s, %s)", [first.pk, second.pk]
        ).result()[0]
        assert table_order == [second.pk, first.pk]  # the update wrote the lower pass's row after the other
        gate.execute("BEGIN").result()
        gate.execute("SELECT id FROM passes_pass WHERE id = %s FOR UPDATE", [second.pk]).result()
        answer_a = a.submit(redeem, key="a")
        wait_until_blocked(a.pid, by=gate.pid, what="l'encaissement A")
        with connection.cursor() as cursor:  # a lock held by A is skipped: no row
            cursor.execute("SELECT id FROM passes_pass WHERE id = %s FOR UPDATE SKIP LOCKED", [first.pk])
            first_held_by_a = cursor.fetchone() is None
        answer_b = b.submit(redeem, key="b")
        wait_until_blocked(b.pid, what="l'encaissement B")
        gate.execute("COMMIT").result()
        answers = [outcome(answer_a), outcome(answer_b)]
    finally:
        for session in sessions:
            session.close()

    assert first_held_by_a, "A attend le second pass sans tenir le premier : verrous pris hors de l'ordre des id"
    assert answers[0][0] == 201 and answers[1][0] == 409, answers
    assert answers[1][1]["error"]["code"] == "pass_already_redeemed"
    assert sorted(RedeemedPass.objects.values_list("pass_ref_id", flat=True)) == [first.pk, second.pk]
    assert booklet.passes.filter(state=PassState.REDEEMED).count() == 2


def locked_redemption(place, passes, key):
    """The locked path alone: ``redeem`` in a transaction (as ``redeem_once`` runs it after a
    refusal or a changed pass), answering as the API does."""
    try:
        with transaction.atomic():
            redeem_passes(place, passes)
    except DomainError as refusal:
        return refusal.status, refusal.as_dict()
    return 201, {"key": key}


def outcome(future):
    """The answer of a redemption, or the database error it died of (a deadlock)."""
    try:
        return future.result()
    except DatabaseError as error:
        return 500, {"error": {"code": type(error).__name__, "message": str(error).splitlines()[0]}}

"""A pass is redeemed at most once under any race: real threads, each with its own
PostgreSQL connection, firing at the API at the same moment."""

import random
import threading
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from mediators.redemption.models import RedeemedPass, Redemption, RefusedScan
from passnum.idempotency.models import StoredAnswer
from passnum.organisations.services import create_api_token
from passnum.passes.models import JournalKind, PassJournal, PassState
from passnum.passes.selectors import value_by_state
from tests.mediators.factories import redeemable_booklet, redeeming_site

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
            close_cache_connections()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fire.contents = contents  # the bodies as sent, byte for byte
    return answers


def close_cache_connections():
    """Each thread has its own cache client (the failed look-ups counter): close its sockets."""
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


def test_overlapping_multi_pass_redemptions_never_deadlock_nor_share_a_pass():
    """Proves that passes are locked in the order of their id whatever the order they were
    scanned in: twelve two-pass redemptions sharing the first pass, each scanned in a random order,
    give exactly one success and eleven « already redeemed » — no deadlock (which would answer
    otherwise), no pass redeemed twice."""
    place, booklet = redeeming_site(passes_required=2), redeemable_booklet()
    passes = list(booklet.passes.order_by("position"))
    sample = random.Random(20261129)  # seeded: the same orders on every run
    pairs = [sample.sample([passes[0], passes[1 + index % 3]], 2) for index in range(12)]
    assert {pair[0] == passes[0] for pair in pairs} == {True, False}  # the shared pass scanned first and last
    clients = [client_for(place) for _ in pairs]

    def redeem_pair(index):
        codes = [p.code for p in pairs[index]]
        body = {"codes": codes, "service": place.item.service.code, "point_of_presence": place.point.pk}
        return post(clients[index], body, f"pair-{index}")

    answers = fire(len(pairs), redeem_pair)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 11, answers
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"pass_already_redeemed"}
    lines = list(RedeemedPass.objects.values_list("pass_ref_id", flat=True))
    assert len(lines) == len(set(lines)) == 2
    assert passes[0].pk in lines
    assert booklet.passes.filter(state=PassState.REDEEMED).count() == 2

"""Redis is a cache and a broker, never a single point of failure of the money path: with the
Redis server killed for real, passes are redeemed (and replayed, undone), booklets handed over,
passes checked, tokens obtained and people logged in; /healthz says « degraded »; the tasks that
could not reach the broker wait in the outbox and leave once Redis is back."""

import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from mediators.redemption.models import Redemption
from passnum.models import OutboxTask, RateLimitCounter
from passnum.organisations.services import create_api_token
from passnum.outbox import submit_on_commit
from passnum.passes import codes
from passnum.passes.models import PassState
from passnum.refusals import FAILED_LOOKUPS
from passnum.tasks import purge_rate_limit_counters
from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory
from tests.mediators.factories import redeemable_booklet, redeeming_site

pytestmark = pytest.mark.django_db(transaction=True)


def token_client(organisation, user):
    _token, key = create_api_token(organisation=organisation, user=user, name="tablette")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def redeem(client, place, pass_, key):
    body = {"codes": [pass_.code], "service": place.item.service.code, "point_of_presence": place.point.pk}
    return client.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def health(client):
    response = client.get(reverse("healthz"))
    return response.status_code, response.json()


def test_scanning_goes_on_while_redis_is_down_and_the_outbox_drains_when_it_is_back(redis_server, client):
    place = redeeming_site()
    scanner = token_client(place.organisation, place.user)
    passes = list(redeemable_booklet().passes.order_by("position"))
    prescriber = OrganisationFactory(prescriber=True)
    counter_user = MembershipFactory(organisation=prescriber, role="admin").user
    booklet = booklets_in_stock(prescriber, count=1)[0]
    counter = token_client(prescriber, counter_user)

    # Normal operation on this Redis.
    assert health(client) == (200, {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok", "outbox": 0})
    assert redeem(scanner, place, passes[0], "avant-la-panne").status_code == 201

    redis_server.kill()

    # A scan: 201, and its replay gives the very same answer without redeeming twice.
    first = redeem(scanner, place, passes[1], "pendant-la-panne")
    assert first.status_code == 201, first.content
    replay = redeem(scanner, place, passes[1], "pendant-la-panne")
    assert replay.status_code == 201 and replay.json() == first.json()
    assert Redemption.objects.filter(lines__pass_ref=passes[1]).count() == 1
    # A mistyped code is still refused and counted — in PostgreSQL while Redis is away.
    code = passes[2].code
    mistyped = scanner.get(f"/api/v1/passes/{code[:-1]}{'Y' if code[-1] == 'X' else 'X'}")  # one symbol changed
    assert mistyped.status_code in {400, 404} and mistyped.json()["error"]["code"] in FAILED_LOOKUPS
    assert RateLimitCounter.objects.filter(key__startswith="pn:failed-lookups:").count() == 1  # the caller's own window
    # A pass checked at the site, then the redemption undone.
    checked = scanner.get(f"/api/v1/passes/{passes[2].code}")
    assert checked.status_code == 200 and checked.json()["state"] == PassState.ACTIVE
    undone = scanner.delete(f"/api/v1/redemptions/{first.json()['id']}")
    assert undone.status_code in {200, 204}, undone.content
    passes[1].refresh_from_db()
    assert passes[1].state == PassState.ACTIVE

    # A booklet handed over at a counter.
    handed = counter.post(
        "/api/v1/distributions",
        {"booklet_serial": booklet.serial, "beneficiary": BENEFICIARY},
        format="json",
        HTTP_IDEMPOTENCY_KEY="remise-1",
    )
    assert handed.status_code == 201, handed.content

    # « Check my pass », public and limited per IP (counted in PostgreSQL meanwhile).
    verified = client.get(reverse("beneficiaries:verify"), {"code": codes.grouped(passes[3].code)})
    assert verified.status_code == 200 and "Ce pass est utilisable." in verified.content.decode()
    assert RateLimitCounter.objects.filter(key__startswith="pn:verifier:").exists()

    # A device token, and a person logging in (sessions live in PostgreSQL).
    token = APIClient().post(
        "/api/v1/auth/token/",
        {"email": place.user.email, "password": DEFAULT_PASSWORD, "device": "Douchette"},
        format="json",
    )
    assert token.status_code == 201, token.content
    person = UserFactory()
    MembershipFactory(user=person, organisation=place.organisation)
    login = client.post(reverse("account_login"), {"login": person.email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 302 and login.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200

    # A task submitted after a COMMIT cannot reach the broker: it waits in the outbox.
    with transaction.atomic():
        submit_on_commit(purge_rate_limit_counters)
    waiting = OutboxTask.objects.get()
    assert waiting.task_name == "passnum.tasks.purge_rate_limit_counters" and waiting.last_error

    status, body = health(client)
    assert status == 200
    assert body == {"status": "degraded", "database": "ok", "cache": "error", "broker": "error", "outbox": 1}

    # Redis is back: the outbox drains into the broker's queue, health is back to ok.
    redis_server.start()
    call_command("drain_outbox")
    assert not OutboxTask.objects.exists()
    queued = [json.loads(message) for message in redis_server.client().lrange("celery", 0, -1)]
    assert [message["headers"]["task"] for message in queued] == ["passnum.tasks.purge_rate_limit_counters"]
    assert health(client) == (200, {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok", "outbox": 0})


def test_drain_stops_while_the_broker_is_still_down_and_keeps_the_tasks(redis_server):
    redis_server.kill()
    with transaction.atomic():
        submit_on_commit(purge_rate_limit_counters)
        submit_on_commit(purge_rate_limit_counters)
    assert OutboxTask.objects.count() == 2
    with pytest.raises(SystemExit):
        call_command("drain_outbox")
    assert list(OutboxTask.objects.values_list("attempts", flat=True)) == [2, 1]


def test_a_rolled_back_transaction_submits_nothing(redis_server):
    redis_server.kill()
    with pytest.raises(RuntimeError), transaction.atomic():
        submit_on_commit(purge_rate_limit_counters)
        raise RuntimeError("annulé")
    assert not OutboxTask.objects.exists()
    assert redis_server.process.poll() is not None

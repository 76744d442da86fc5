"""The redemption API: idempotency, refusals with codes, bad input never
a 500 and never a write, rate limits on failed look-ups, undo and the month's list."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from mediators.redemption.models import Redemption, RefusedScan
from passnum import ratelimit
from passnum.idempotency.models import StoredAnswer
from passnum.organisations.services import create_api_token
from passnum.passes import codes
from passnum.passes.models import PassState
from tests.mediators.factories import pass_in_each_situation, redeemable_booklet, redeeming_site

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


@pytest.fixture
def place():
    return redeeming_site()


@pytest.fixture
def client(place):
    _token, key = create_api_token(organisation=place.organisation, user=place.user, name="tablette")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.fixture
def pass_():
    return redeemable_booklet().passes.order_by("position").first()


def body_for(place, *passes, **extra):
    return {
        "codes": [p.code for p in passes],
        "service": place.item.service.code,
        "point_of_presence": place.point.pk,
        **extra,
    }


def post(client, body, key="k-1"):
    return client.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_redeem_then_replay_gives_the_same_answer_and_redeems_once(client, place, pass_):
    first = post(client, body_for(place, pass_))
    assert first.status_code == 201
    body = first.json()
    assert body["codes"] == [codes.grouped(pass_.code)] and body["amount_cents"] == 1000
    assert body["point_of_presence"] == {"id": place.point.pk, "name": place.point.name}
    again = post(client, body_for(place, pass_))
    assert (again.status_code, again.json()) == (201, body)
    assert again.content == first.content  # byte for byte, keys in the same order
    assert again["Content-Type"] == "application/json"
    assert Redemption.objects.count() == 1 and not RefusedScan.objects.exists()
    stored = StoredAnswer.objects.get(scope="redemptions", key="k-1")
    assert stored.body.encode() == first.content and stored.subject == body["id"]


def test_the_same_key_with_another_body_is_refused(client, place, pass_):
    assert post(client, body_for(place, pass_)).status_code == 201
    other = redeemable_booklet().passes.first()
    response = post(client, body_for(place, other))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    other.refresh_from_db()
    assert other.state == PassState.ACTIVE


def test_a_refusal_is_replayed_too_and_logged_once(client, place, pass_):
    body = body_for(place, pass_)
    body["codes"] = [pass_.code[:-1] + ("0" if pass_.code[-1] != "0" else "1")]
    first = post(client, body)
    assert first.status_code == 400 and first.json()["error"]["code"] == "code_mistyped"
    again = post(client, body)
    assert (again.status_code, again.content) == (400, first.content)
    assert RefusedScan.objects.count() == 1


def test_already_redeemed_carries_when_and_the_codes(client, place, pass_):
    post(client, body_for(place, pass_), key="a")
    response = post(client, body_for(place, pass_), key="b")
    error = response.json()["error"]
    assert response.status_code == 409 and error["code"] == "pass_already_redeemed"
    assert error["codes"] == [codes.grouped(pass_.code)] and error["redeemed_by"] == place.user.email
    assert "redeemed_at" in error


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        [],
        {},
        {"codes": "ABCD", "service": 1, "point_of_presence": 1},
        {"codes": ["x" * 10_000], "service": 1, "point_of_presence": 1},
        {"codes": [], "service": 1, "point_of_presence": 1},
        {"codes": ["ABCD"], "service": "1", "point_of_presence": 1},
        {"codes": ["ABCD"], "service": 1, "point_of_presence": -5},
        {"codes": ["ABCD"], "service": 1, "point_of_presence": 2**40},
        {"codes": ["ABCD"], "service": 1, "point_of_presence": 1, "scanned_at": "hier"},
        {"codes": ["ABCD"], "service": 1, "point_of_presence": 1, "scanned_at": "0055-06-03T21:00:40-16:24"},
        {"codes": ["\x00\x01"], "service": 1, "point_of_presence": 1},
        {"codes": ["https://ailleurs.example/p/ABCD"], "service": 1, "point_of_presence": 1},
    ],
)
def test_bad_input_is_refused_with_a_code_and_writes_nothing(client, place, body):
    response = client.post(
        "/api/v1/redemptions",
        body if not isinstance(body, str) else body,
        format="json" if not isinstance(body, str) else None,
        content_type=None if not isinstance(body, str) else "application/json",
        HTTP_IDEMPOTENCY_KEY="bad",
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"]
    assert not Redemption.objects.exists()


def test_a_session_and_a_token_get_the_same_bytes_for_one_key(client, place, pass_):
    """A token's well-formed scan takes the lean path (no DRF request wrapping), a session's the
    ordinary one: one answer per key either way, with the same bytes and headers."""
    session = APIClient()
    session.force_login(place.user)
    first = post(session, body_for(place, pass_), key="deux-chemins")
    again = post(client, body_for(place, pass_), key="deux-chemins")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Allow"] == first["Allow"]
    assert Redemption.objects.count() == 1


def test_the_body_is_checked_by_its_serializer_field_by_field(client, place):
    body = {"codes": ["ABCD", 12], "service": "1", "point_of_presence": 1, "beneficiary_share_cents": True}
    response = post(client, body, key="champs")
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "invalid" and error["message"]
    assert set(error["fields"]) == {"codes", "service", "beneficiary_share_cents"}
    assert not StoredAnswer.objects.exists()  # nothing to replay: the request was not understood


def test_a_scan_time_is_read_in_utc(client, place, pass_):
    paris_winter = datetime.timezone(datetime.timedelta(hours=1))
    scanned = (timezone.now() + datetime.timedelta(minutes=1)).replace(microsecond=0).astimezone(paris_winter)
    response = post(client, body_for(place, pass_, scanned_at=scanned.isoformat()), key="heure")
    assert response.status_code == 201, response.json()
    assert response.json()["scanned_at"] == scanned.astimezone(datetime.UTC).isoformat()
    assert Redemption.objects.get().scanned_at == scanned


def test_a_missing_idempotency_key_is_refused(client, place, pass_):
    response = client.post("/api/v1/redemptions", body_for(place, pass_), format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "idempotency_key_invalid"


def test_another_sites_point_or_service_is_refused(client, place, pass_):
    other = redeeming_site(service_code=5)
    response = post(client, body_for(place, pass_, point_of_presence=other.point.pk), key="p")
    assert response.json()["error"]["code"] == "point_of_presence_unknown"
    response = post(client, body_for(place, pass_, service=5), key="s")
    assert response.json()["error"]["code"] == "service_not_in_catalogue"
    assert not Redemption.objects.exists()


def test_only_a_site_may_redeem(pass_):
    from tests.factories import MembershipFactory, OrganisationFactory

    membership = MembershipFactory(organisation=OrganisationFactory(prescriber=True))
    api = APIClient()
    api.force_login(membership.user)
    response = api.post("/api/v1/redemptions", {"codes": [pass_.code], "service": 1, "point_of_presence": 1},
                        format="json", HTTP_IDEMPOTENCY_KEY="x")  # fmt: skip
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_failed_lookups_are_rate_limited_per_user_while_real_scans_are_not(client, place, monkeypatch):
    monkeypatch.setattr(ratelimit, "LIMIT", 3)
    booklet = redeemable_booklet()
    for index, pass_ in enumerate(booklet.passes.order_by("position")[:5]):
        assert post(client, body_for(place, pass_), key=f"ok-{index}").status_code == 201
    for index in range(3):
        response = client.get(f"/api/v1/passes/{codes.generate()}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "pass_unknown", index
    response = client.get(f"/api/v1/passes/{codes.generate()}")
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= ratelimit.WINDOW_SECONDS + 1
    blocked = post(client, body_for(place, booklet.passes.order_by("position")[6]), key="late")
    assert blocked.status_code == 429


def test_a_pass_is_tested_without_being_redeemed(client, place, pass_):
    response = client.get(f"/api/v1/passes/{codes.grouped(pass_.code).lower()}")
    assert response.status_code == 200
    body = response.json()
    assert body["redeemable"] is True and body["state"] == "active" and body["refusal"] is None
    pass_.refresh_from_db()
    assert pass_.state == PassState.ACTIVE
    post(client, body_for(place, pass_))
    body = client.get(f"/api/v1/passes/{pass_.code}").json()
    assert body["redeemable"] is False and body["refusal"]["code"] == "pass_already_redeemed"


def test_undo_through_the_api_and_the_months_list(client, place, pass_):
    created = post(client, body_for(place, pass_)).json()
    listed = client.get("/api/v1/redemptions", {"month": timezone.localdate().strftime("%Y-%m")}).json()
    assert [r["id"] for r in listed["results"]] == [created["id"]]
    assert client.get("/api/v1/redemptions", {"month": "2020-01"}).json()["count"] == 0
    assert client.get("/api/v1/redemptions", {"month": "janvier"}).status_code == 400
    undone = client.delete(f"/api/v1/redemptions/{created['id']}")
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    again = client.delete(f"/api/v1/redemptions/{created['id']}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "redemption_already_undone"
    pass_.refresh_from_db()
    assert pass_.state == PassState.ACTIVE


def test_undo_after_24_hours_is_refused(client, place, pass_):
    import time_machine

    created = post(client, body_for(place, pass_)).json()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        response = client.delete(f"/api/v1/redemptions/{created['id']}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "undo_window_over"


def test_another_organisations_redemption_answers_404(client, place, pass_):
    other = redeeming_site()
    _token, key = create_api_token(organisation=other.organisation, user=other.user, name="autre")
    created = post(client, body_for(place, pass_)).json()
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert stranger.get(f"/api/v1/redemptions/{created['id']}").status_code == 404
    assert stranger.delete(f"/api/v1/redemptions/{created['id']}").status_code == 404
    assert Redemption.objects.get().undone_at is None


# Each situation and the words that must name it (never « commande non payée » for a paid pass).
STATE_LABELS = {
    "paid_not_handed_out": "Payé, pas encore remis à un bénéficiaire",
    "unpaid_not_handed_out": "Pas encore remis à un bénéficiaire, commande pas encore payée",
    "handed_out": "Remis, utilisable",
    "redeemed": "Utilisé (encaissé par une structure)",
    "expired": "Expiré sans avoir été utilisé",
    "cancelled": "Annulé (carnet déclaré perdu ou volé)",
}


def test_every_state_label_says_the_situation_it_names(client, place):
    situations = pass_in_each_situation(place)
    assert {p.state for p in situations.values()} == set(PassState.values)  # every state is met
    labels = {}
    for situation, pass_ in situations.items():
        response = client.get(f"/api/v1/passes/{pass_.code}")
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == pass_.state
        labels[situation] = response.json()["state_label"]
    assert labels == STATE_LABELS

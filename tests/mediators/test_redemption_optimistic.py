"""PostgreSQL's optimistic redemption: a reading without lock, then one write statement that
locks the passes and moves them only if every one is still active. A pass that changes between
the two is never half-redeemed: the write leaves everything as it was, and the locked path
answers with the refusal a locked reading gives."""

import json

import pytest

from mediators.redemption import selectors, services
from mediators.redemption.models import Redemption, RefusedScan
from passnum.idempotency.models import StoredAnswer
from passnum.passes.models import JournalKind, Pass, PassJournal, PassState
from tests.mediators.factories import redeemable_booklet, redeeming_site

pytestmark = pytest.mark.django_db


def redeem_once(place, passes, key="k-1"):
    return services.redeem_once(
        place.organisation,
        key=key,
        request_hash="h",
        user=place.user,
        codes_entered=[p.code for p in passes],
        service_code=place.item.service.code,
        point_id=place.point.pk,
    )


def change_after_reading(monkeypatch, change):
    """``change()`` runs right after the optimistic path read the passes (as a concurrent
    request committing then would)."""
    reading = selectors.redemption_reading

    def read_then_change(*args, **kwargs):
        result = reading(*args, **kwargs)
        change()
        return result

    monkeypatch.setattr(selectors, "redemption_reading", read_then_change)


def test_a_pass_cancelled_after_the_reading_moves_no_pass(monkeypatch):
    place = redeeming_site(passes_required=2)
    first, second = redeemable_booklet().passes.order_by("position")[:2]
    change_after_reading(monkeypatch, lambda: Pass.objects.filter(pk=second.pk).update(state=PassState.CANCELLED))

    status, body = redeem_once(place, [first, second])

    assert status == 409 and json.loads(body)["error"]["code"] == "pass_cancelled"
    first.refresh_from_db()
    assert first.state == PassState.ACTIVE  # all or nothing: the active one did not move
    assert not Redemption.objects.exists()
    assert not PassJournal.objects.filter(kind=JournalKind.REDEEMED).exists()
    assert RefusedScan.objects.get().reason == "pass_cancelled"
    assert StoredAnswer.objects.get(key="k-1").body == body  # the refusal is the key's answer


def test_a_pass_redeemed_elsewhere_after_the_reading_is_refused_with_when_and_where(monkeypatch):
    place, other = redeeming_site(), redeeming_site()
    pass_ = redeemable_booklet().passes.order_by("position").first()
    change_after_reading(monkeypatch, lambda: monkeypatch.undo() or redeem_once(other, [pass_], key="ailleurs"))

    status, body = redeem_once(place, [pass_])

    error = json.loads(body)["error"]
    assert status == 409 and error["code"] == "pass_already_redeemed" and "redeemed_at" in error
    assert Redemption.objects.get().site == other.site


def test_the_optimistic_path_writes_in_two_statements(django_assert_num_queries):
    place = redeeming_site()
    passes = list(redeemable_booklet().passes.order_by("position"))
    redeem_once(place, passes[:1], key="chauffe")  # the programme's eligibility is cached per process
    with django_assert_num_queries(4):  # the reading; the write (in a test: between savepoint and release)
        status, body = redeem_once(place, passes[1:2])
    assert status == 201 and json.loads(body)["codes"]
    assert Pass.objects.get(pk=passes[1].pk).state == PassState.REDEEMED

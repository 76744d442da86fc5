"""The redemption rules: each refusal has its code and writes nothing."""

import datetime
import json

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from mediators.redemption import services
from mediators.redemption.models import RedeemedPass, Redemption, RefusedScan
from passnum.passes import codes
from passnum.passes import services as pass_services
from passnum.passes.models import JournalKind, Pass, PassJournal, PassState
from passnum.passes.selectors import value_by_state
from tests.mediators.factories import (
    PointOfPresenceFactory,
    SubscriptionFactory,
    redeem_passes,
    redeemable_booklet,
    redeeming_site,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place():
    return redeeming_site()


@pytest.fixture
def booklet():
    return redeemable_booklet()


def first_passes(booklet, n=1):
    return list(booklet.passes.order_by("position")[:n])


def refusal_of(place, passes, **extra):
    with pytest.raises(services.RedemptionRefused) as caught, transaction.atomic():
        redeem_passes(place, passes, **extra)
    return caught.value


def nothing_written():
    return not Redemption.objects.exists() and not RedeemedPass.objects.exists()


def test_a_pass_is_redeemed_with_its_journal(place, booklet):
    pass_ = first_passes(booklet)[0]
    redemption = redeem_passes(place, [pass_])
    pass_.refresh_from_db()
    assert pass_.state == PassState.REDEEMED
    assert redemption.amount_cents == 1000 and redemption.pass_count == 1
    assert redemption.site == place.site and redemption.point_of_presence == place.point
    assert redemption.booklet == booklet and redemption.programme == booklet.programme
    journal = PassJournal.objects.get(pass_ref=pass_, kind=JournalKind.REDEEMED)
    assert journal.details == {"redemption": str(redemption.pk)}
    assert RedeemedPass.objects.get(pass_ref=pass_).redemption == redemption


def test_conservation_holds_after_redeeming_and_undoing(place, booklet):
    programme = booklet.programme
    issued = sum(value_by_state(programme).values())
    redemption = redeem_passes(place, first_passes(booklet))
    values = value_by_state(programme)
    assert sum(values.values()) == issued and values[PassState.REDEEMED] == 1000
    services.undo_redemption(place.organisation, redemption.pk, user=place.user)
    values = value_by_state(programme)
    assert sum(values.values()) == issued and values[PassState.REDEEMED] == 0


def test_a_multi_pass_service_takes_passes_of_one_booklet_together(booklet):
    place = redeeming_site(passes_required=3)
    redemption = redeem_passes(place, first_passes(booklet, 3), beneficiary_share_cents=500)
    assert redemption.pass_count == 3 and redemption.amount_cents == 3000
    assert redemption.beneficiary_share_cents == 500
    assert Pass.objects.filter(booklet=booklet, state=PassState.REDEEMED).count() == 3


def test_a_multi_pass_service_refuses_too_few_passes(booklet):
    place = redeeming_site(passes_required=2)
    assert refusal_of(place, first_passes(booklet)).code == "wrong_pass_count"
    assert nothing_written()


def test_passes_from_different_booklets_are_refused_all_or_nothing(booklet):
    place = redeeming_site(passes_required=2)
    other = redeemable_booklet()
    refusal = refusal_of(place, first_passes(booklet) + first_passes(other))
    assert refusal.code == "passes_from_different_booklets"
    assert nothing_written()
    assert not Pass.objects.filter(state=PassState.REDEEMED).exists()


def test_already_redeemed_says_when_and_by_whom_for_the_same_site(place, booklet):
    pass_ = first_passes(booklet)[0]
    redeem_passes(place, [pass_])
    refusal = refusal_of(place, [pass_])
    assert refusal.code == "pass_already_redeemed" and refusal.status == 409
    assert place.user.email in refusal.message and place.point.name in refusal.message
    assert refusal.details["codes"] == [codes.grouped(pass_.code)]
    other = redeeming_site()
    refusal = refusal_of(other, [pass_])
    assert refusal.code == "pass_already_redeemed"
    assert "autre structure" in refusal.message and place.user.email not in refusal.message
    assert "redeemed_by" not in refusal.details


@pytest.mark.parametrize(
    ("entered", "code"),
    [
        ("n'importe quoi", "code_malformed"),
        ("", "code_malformed"),
        ("A" * 10_000, "code_malformed"),
        ("https://ailleurs.example/autre/chose", "code_malformed"),
    ],
)
def test_garbage_is_malformed(place, entered, code):
    with pytest.raises(services.RedemptionRefused) as caught:
        services.redeem(
            place.organisation, user=place.user, codes_entered=[entered], service_code=1, point_id=place.point.pk
        )
    assert caught.value.code == code
    assert nothing_written()


def test_a_wrong_check_character_is_mistyped_and_an_unknown_code_is_unknown(place, booklet):
    code = first_passes(booklet)[0].code
    wrong_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(services.RedemptionRefused) as caught:
        services.redeem(
            place.organisation, user=place.user, codes_entered=[wrong_check], service_code=1, point_id=place.point.pk
        )
    assert caught.value.code == "code_mistyped"
    with pytest.raises(services.RedemptionRefused) as caught:
        services.redeem(
            place.organisation,
            user=place.user,
            codes_entered=[codes.generate()],
            service_code=1,
            point_id=place.point.pk,
        )
    assert caught.value.code == "pass_unknown" and caught.value.status == 404


def test_typed_codes_are_read_like_the_code_module(place, booklet):
    pass_ = first_passes(booklet)[0]
    typed = codes.grouped(pass_.code).lower().replace("0", "o").replace("1", "l")
    services.redeem(
        place.organisation, user=place.user, codes_entered=[f" {typed}\n"], service_code=1, point_id=place.point.pk
    )
    pass_.refresh_from_db()
    assert pass_.state == PassState.REDEEMED


def test_a_pass_not_handed_out_is_not_active(place):
    from tests.beneficiaries.factories import booklets_in_stock
    from tests.factories import OrganisationFactory

    booklet = booklets_in_stock(OrganisationFactory(prescriber=True), 1, departments=["33"], communes=[])[0]
    assert refusal_of(place, first_passes(booklet)).code == "pass_not_active"
    assert nothing_written()


def test_a_cancelled_pass_is_refused(place, booklet):
    pass_services.cancel_booklet(booklet, reason="perdu")
    assert refusal_of(place, first_passes(booklet)).code == "pass_cancelled"


def test_an_expired_pass_is_refused_after_validity_and_grace(place, booklet):
    expires_on = first_passes(booklet)[0].expires_on
    with time_machine.travel(datetime.datetime.combine(expires_on, datetime.time(12)), tick=False):
        redeem_passes(place, first_passes(booklet))  # the last day still works
    with time_machine.travel(datetime.datetime.combine(expires_on + datetime.timedelta(days=1), datetime.time(12))):
        refusal = refusal_of(place, list(booklet.passes.filter(state=PassState.ACTIVE)[:1]))
    assert refusal.code == "pass_expired"


def test_a_site_not_qualified_or_suspended_cannot_redeem(booklet):
    place = redeeming_site()
    place.site.status = "submitted"
    place.site.save()
    assert refusal_of(place, first_passes(booklet)).code == "site_not_qualified"
    place.site.status = "suspended"
    place.site.save()
    assert refusal_of(place, first_passes(booklet)).code == "site_suspended"


def test_an_unpaid_subscription_past_its_grace_suspends_redemption(place, booklet):
    SubscriptionFactory(site=place.site, due_date=timezone.localdate() - datetime.timedelta(days=200))
    refusal = refusal_of(place, first_passes(booklet))
    assert refusal.code == "site_suspended" and refusal.status == 403


def test_a_service_outside_the_catalogue_or_another_sites_point_is_refused(place, booklet):
    other = redeeming_site(service_code=2)
    pass_ = first_passes(booklet)[0]
    with pytest.raises(services.RedemptionRefused) as caught:
        services.redeem(
            place.organisation, user=place.user, codes_entered=[pass_.code], service_code=2, point_id=place.point.pk
        )
    assert caught.value.code == "service_not_in_catalogue"
    with pytest.raises(services.RedemptionRefused) as caught:
        services.redeem(
            place.organisation, user=place.user, codes_entered=[pass_.code], service_code=1, point_id=other.point.pk
        )
    assert caught.value.code == "point_of_presence_unknown"
    assert nothing_written()


def test_a_service_the_programme_does_not_fund_is_not_eligible(place):
    from aptic_catalog.models import Service

    booklet = redeemable_booklet()
    booklet.programme.eligible_services.set([Service.objects.get(code=2)])
    booklet.programme.save()  # a change of eligibility always goes with a save (cache key)
    assert refusal_of(place, first_passes(booklet)).code == "service_not_eligible"


def test_a_point_outside_the_programme_territory_is_refused(place):
    booklet = redeemable_booklet(departments=["75"])
    assert refusal_of(place, first_passes(booklet)).code == "site_out_of_territory"
    place.point = PointOfPresenceFactory(site=place.site, postcode="75011", commune="Paris", insee_code="75111")
    assert redeem_passes(place, first_passes(booklet)).point_of_presence == place.point


@pytest.mark.parametrize("share", [-1, 1001, "10", 2.5, True])
def test_a_beneficiary_share_must_be_cents_within_the_face_value(place, booklet, share):
    assert refusal_of(place, first_passes(booklet), beneficiary_share_cents=share).code == "beneficiary_share_invalid"
    assert nothing_written()


def test_scanned_at_in_the_future_or_before_the_hand_out_is_refused(place, booklet):
    passes = first_passes(booklet)
    future = timezone.now() + datetime.timedelta(hours=1)
    assert refusal_of(place, passes, scanned_at=future).code == "scanned_at_invalid"
    before = timezone.now() - datetime.timedelta(days=1)
    assert refusal_of(place, passes, scanned_at=before).code == "scanned_at_invalid"
    handed_out = PassJournal.objects.get(pass_ref=passes[0], kind=JournalKind.ACTIVATED).at
    earlier = handed_out + datetime.timedelta(microseconds=1)
    assert redeem_passes(place, passes, scanned_at=earlier).scanned_at == earlier


def test_undo_within_24_hours_then_never(place, booklet):
    pass_ = first_passes(booklet)[0]
    redemption = redeem_passes(place, [pass_])
    services.undo_redemption(place.organisation, redemption.pk, user=place.user)
    pass_.refresh_from_db()
    assert pass_.state == PassState.ACTIVE
    assert PassJournal.objects.filter(pass_ref=pass_, kind=JournalKind.UNDONE).count() == 1
    with pytest.raises(services.RedemptionRefused) as caught:
        services.undo_redemption(place.organisation, redemption.pk, user=place.user)
    assert caught.value.code == "redemption_already_undone"
    second = redeem_passes(place, [pass_])  # the pass can be redeemed again
    later = timezone.now() + datetime.timedelta(hours=25)
    with time_machine.travel(later), pytest.raises(services.RedemptionRefused) as caught:
        services.undo_redemption(place.organisation, second.pk, user=place.user)
    assert caught.value.code == "undo_window_over"


def test_a_settled_redemption_cannot_be_undone(place, booklet):
    redemption = redeem_passes(place, first_passes(booklet))
    Redemption.objects.filter(pk=redemption.pk).update(settled_at=timezone.now())
    with pytest.raises(services.RedemptionRefused) as caught:
        services.undo_redemption(place.organisation, redemption.pk, user=place.user)
    assert caught.value.code == "redemption_settled"


def test_another_organisations_redemption_is_not_found(place, booklet):
    from django.http import Http404

    redemption = redeem_passes(place, first_passes(booklet))
    with pytest.raises(Http404):
        services.undo_redemption(redeeming_site().organisation, redemption.pk, user=None)


def test_the_database_refuses_a_second_live_line_for_a_pass(place, booklet):
    pass_ = first_passes(booklet)[0]
    redemption = redeem_passes(place, [pass_])
    with pytest.raises(IntegrityError), transaction.atomic():
        RedeemedPass.objects.create(redemption=redemption, pass_ref=pass_, face_value_cents=1000)


def test_the_database_refuses_a_share_above_the_amount(place, booklet):
    redemption = redeem_passes(place, first_passes(booklet))
    with pytest.raises(IntegrityError), transaction.atomic():
        Redemption.objects.filter(pk=redemption.pk).update(beneficiary_share_cents=5000)


def test_refused_scans_are_logged_with_who_where_and_why(place, booklet):
    key_answer = services.redeem_once(
        place.organisation,
        key="k-1",
        request_hash="h",
        user=place.user,
        codes_entered=["ZZZZ"],
        service_code=1,
        point_id=place.point.pk,
    )
    assert key_answer[0] == 400 and json.loads(key_answer[1])["error"]["code"] == "code_malformed"
    scan = RefusedScan.objects.get()
    assert (scan.organisation, scan.user, scan.point_of_presence) == (place.organisation, place.user, place.point)
    assert scan.reason == "code_malformed" and scan.entered == "ZZZZ" and scan.service == place.item.service


def test_the_portable_writes_used_on_sqlite_give_the_same_result(place, booklet, monkeypatch):
    """The embedded default (SQLite) writes with ordinary statements instead of one CTE."""
    monkeypatch.setattr(pass_services, "single_statement_writes", lambda: False)
    place = redeeming_site(passes_required=2)
    passes = first_passes(booklet, 2)
    redemption = redeem_passes(place, passes, beneficiary_share_cents=300)
    stored = Redemption.objects.get(pk=redemption.pk)
    assert (stored.pass_count, stored.amount_cents, stored.beneficiary_share_cents) == (2, 2000, 300)
    assert set(RedeemedPass.objects.filter(redemption=stored).values_list("pass_ref_id", flat=True)) == {
        p.pk for p in passes
    }
    assert PassJournal.objects.filter(pass_ref__in=passes, kind=JournalKind.REDEEMED).count() == 2
    assert refusal_of(place, passes).code == "pass_already_redeemed"


def test_the_redemption_takes_few_queries(place, booklet, django_assert_max_num_queries):
    """Site context, locked passes, two writes (the eligibility is cached per programme)."""
    passes = list(booklet.passes.order_by("position"))
    redeem_passes(place, passes[:1])
    with django_assert_max_num_queries(4):
        redeem_passes(place, passes[1:2])


def test_a_conflict_found_after_the_write_leaves_nothing_behind(place, booklet, monkeypatch):
    """If the single write ever moved fewer passes than it locked (a conflict found after writing),
    the refusal must undo that write: never passes committed as redeemed without a redemption,
    and no answer stored under the key (a retry may succeed)."""
    from passnum.idempotency.models import StoredAnswer

    real_write = services._write_redemption

    def write_then_report_one_pass_missing(*args, **kwargs):
        return real_write(*args, **kwargs) - 1  # the passes did move: the write happened

    monkeypatch.setattr(services, "_write_redemption", write_then_report_one_pass_missing)
    pass_ = first_passes(booklet)[0]
    status, body = services.redeem_once(
        place.organisation,
        key="k-conflict",
        request_hash="h",
        user=place.user,
        codes_entered=[pass_.code],
        service_code=place.item.service.code,
        point_id=place.point.pk,
    )
    assert (status, json.loads(body)["error"]["code"]) == (409, "conflict")
    pass_.refresh_from_db()
    assert pass_.state == PassState.ACTIVE
    assert nothing_written()
    assert not PassJournal.objects.filter(pass_ref=pass_, kind=JournalKind.REDEEMED).exists()
    assert not StoredAnswer.objects.exists()

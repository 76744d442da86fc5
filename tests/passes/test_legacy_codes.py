"""Codes issued with the old mod-37 check stay valid after the switch to Damm's check, through
the passes table; new codes are Damm's and never one typo away from an old one."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from mediators.redemption.models import Redemption
from passnum.organisations.services import create_api_token
from passnum.passes import codes, services
from passnum.passes.models import Pass, PassState
from passnum.passes.selectors import is_typo
from tests.mediators.factories import redeemable_booklet, redeeming_site
from tests.passes.test_services import paid_order

pytestmark = pytest.mark.django_db


def issued_before(pass_):
    """Turns ``pass_`` into a pass issued before the switch: old check, flagged as such. Its check
    is one of the alphabet's symbols and not Damm's (the case where a typo may satisfy Damm's
    check; old codes ending in * ~ $ = U are covered in ``test_codes``)."""
    data = pass_.code[:12]
    while (old_check := codes.legacy_check_symbol(data)) not in codes.ALPHABET or old_check == codes.check_symbol(data):
        data = codes.generate()[:12]
    pass_.code = data + codes.legacy_check_symbol(data)
    pass_.legacy_check = True
    pass_.save(update_fields=["code", "legacy_check"])
    return pass_


def api_client(place):
    _token, key = create_api_token(organisation=place.organisation, user=place.user, name="tablette")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def redeem(client, place, code, key):
    body = {"codes": [code], "service": place.item.service.code, "point_of_presence": place.point.pk}
    return client.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_an_order_gets_damm_codes_not_flagged_old():
    order = paid_order(2)
    passes = list(Pass.objects.filter(booklet__order=order))
    assert len(passes) == 20
    for pass_ in passes:
        assert not pass_.legacy_check
        assert codes.damm_valid(pass_.code) and pass_.code[-1] in codes.ALPHABET
        assert codes.parse(pass_.code).code == pass_.code
        assert not is_typo(code=pass_.code)  # no old code one typo away


def test_an_old_pass_is_read_and_redeemed_and_its_typos_are_refused_as_typos():
    place = redeeming_site()
    client = api_client(place)
    booklet = redeemable_booklet()
    old = issued_before(booklet.passes.order_by("position").first())
    assert codes.parse(codes.grouped(old.code).lower()).code == old.code
    # A typo of the old code that satisfies Damm's check: read as a typo, not as a valid code.
    damm_typo = next(
        typed
        for position in range(12)
        for symbol in codes.ALPHABET
        if symbol != old.code[position]
        and codes.damm_valid(typed := old.code[:position] + symbol + old.code[position + 1 :])
    )
    assert codes.parse(damm_typo).ok and is_typo(code=damm_typo)  # read, then found a typo
    refused = redeem(client, place, damm_typo, "typo")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "code_mistyped"
    looked_up = client.get(f"/api/v1/passes/{codes.grouped(old.code)}")
    assert looked_up.status_code == 200 and looked_up.json()["redeemable"] is True
    redeemed = redeem(client, place, codes.grouped(old.code), "old")
    assert redeemed.status_code == 201, redeemed.json()
    old.refresh_from_db()
    assert old.state == PassState.REDEEMED and Redemption.objects.count() == 1


def test_a_string_with_a_right_old_check_that_was_never_issued_is_a_typo():
    passes = redeemable_booklet().passes.all()
    # (A code whose two checks agree would be the pass itself: take one where they differ.)
    pass_ = next(p for p in passes if codes.legacy_check_symbol(p.code[:12]) != p.code[12])
    never_issued = pass_.code[:12] + codes.legacy_check_symbol(pass_.code[:12])
    assert codes.parse(pass_.code).code == pass_.code
    assert codes.parse(never_issued).ok and is_typo(code=never_issued)


def test_new_codes_are_never_drawn_one_typo_away_from_an_old_code(monkeypatch):
    old = issued_before(redeemable_booklet().passes.first())
    # A Damm-valid code one typo away from the old one, as if ``secrets`` had drawn it.
    clash = next(
        typed
        for position in range(12)
        for symbol in codes.ALPHABET
        if symbol != old.code[position]
        and codes.damm_valid(typed := old.code[:position] + symbol + old.code[position + 1 :])
    )
    assert old.code in codes.legacy_neighbours(clash)
    real_generate = codes.generate
    drawn = iter([clash])
    monkeypatch.setattr(codes, "generate", lambda: next(drawn, None) or real_generate())
    fresh = services.new_codes(count=5)
    assert len(fresh) == 5 and clash not in fresh
    assert all(codes.parse(code).code == code and not is_typo(code=code) for code in fresh)


def test_the_demo_prints_and_hands_out_new_style_codes():
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    shown = [item["code"] for item in json.loads(out.getvalue())["redeemable_passes"]]
    assert shown and all(codes.damm_valid(codes.normalise(code)) for code in shown)
    issued = list(Pass.objects.values_list("code", "legacy_check"))
    assert len(issued) >= 100
    assert all(codes.damm_valid(code) and not legacy for code, legacy in issued)
    assert not any(code[-1] in "*~$=U" for code, _ in issued)

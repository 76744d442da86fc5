"""Failed pass look-ups are counted per caller: nobody's failures refuse someone else's real pass,
even when every request comes through the same proxy address."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from mediators.qualification.models import QualificationStatus
from passnum import ratelimit
from passnum.organisations.services import create_api_token
from passnum.passes import codes
from tests.factories import MembershipFactory
from tests.mediators.factories import SiteFactory, redeemable_booklet, redeeming_site

pytestmark = pytest.mark.django_db


def _device(organisation, user, *, forwarded="203.0.113.10"):
    _token, key = create_api_token(organisation=organisation, user=user, name="tablette")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_FORWARDED_FOR=forwarded)
    return api


@override_settings(PASSNUM_TRUSTED_PROXIES=1)
def test_a_guessers_failures_never_refuse_another_sites_real_pass(monkeypatch):
    monkeypatch.setattr(ratelimit, "LIMIT", 3)
    guesser_site, honest_site = redeeming_site(), redeeming_site()
    # Same client address for both: the worst case of a shared proxy or a shared office network.
    guesser = _device(guesser_site.organisation, guesser_site.user, forwarded="198.51.100.1")
    honest = _device(honest_site.organisation, honest_site.user, forwarded="198.51.100.1")
    for _ in range(5):
        guesser.get(f"/api/v1/passes/{codes.generate()}")
    assert guesser.get(f"/api/v1/passes/{codes.generate()}").status_code == 429
    pass_ = redeemable_booklet().passes.order_by("position").first()
    response = honest.get(f"/api/v1/passes/{pass_.code}")
    assert response.status_code == 200 and response.json()["redeemable"] is True


def test_a_colleagues_device_does_not_lock_out_the_counter(monkeypatch):
    monkeypatch.setattr(ratelimit, "LIMIT", 3)
    place = redeeming_site()
    colleague = MembershipFactory(organisation=place.organisation).user
    noisy, counter = _device(place.organisation, colleague), _device(place.organisation, place.user)
    for _ in range(4):
        noisy.get(f"/api/v1/passes/{codes.generate()}")
    pass_ = redeemable_booklet().passes.order_by("position").first()
    assert counter.get(f"/api/v1/passes/{pass_.code}").status_code == 200


@pytest.mark.parametrize("status", [QualificationStatus.DRAFT, QualificationStatus.SUBMITTED])
def test_an_unqualified_site_cannot_test_passes(status):
    site = SiteFactory(status=status)
    user = MembershipFactory(organisation=site.organisation).user
    pass_ = redeemable_booklet().passes.order_by("position").first()
    response = _device(site.organisation, user).get(f"/api/v1/passes/{pass_.code}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "site_not_qualified"

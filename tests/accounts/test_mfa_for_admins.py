"""A second factor where the power is: every administrator, with a grace period."""

import datetime

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone

from passnum.organisations.enums import Role
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["sponsor", "site", "prescriber", "funder"])
def test_an_admin_without_second_factor_gets_a_grace_period_then_the_explanation(client, settings, kind):
    settings.PASSNUM_MFA_GRACE_DAYS = 7
    admin = UserFactory()
    MembershipFactory(user=admin, organisation=OrganisationFactory(kind=kind), role=Role.ADMIN)
    client.force_login(admin)
    first = client.get(reverse("dashboard"))
    assert first.status_code == 200
    assert "La double authentification sera obligatoire" in first.content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        client.force_login(admin)  # the session of last week has expired
        late = client.get(reverse("dashboard"))
        assert late.status_code == 302 and late.url.startswith(reverse("mfa_required"))
        page = client.get(late.url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "Double authentification obligatoire" in text and reverse("mfa_activate_totp") in text


def test_the_grace_period_starts_once(client, settings):
    settings.PASSNUM_MFA_GRACE_DAYS = 7
    admin = UserFactory()
    MembershipFactory(user=admin, organisation=OrganisationFactory(site=True), role=Role.ADMIN)
    client.force_login(admin)
    client.get(reverse("dashboard"))
    admin.refresh_from_db()
    started = admin.mfa_grace_started_at
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        client.get(reverse("dashboard"))
    admin.refresh_from_db()
    assert admin.mfa_grace_started_at == started


def test_an_admin_with_a_second_factor_has_no_banner(client):
    admin = UserFactory(with_mfa=True)
    MembershipFactory(user=admin, organisation=OrganisationFactory(site=True), role=Role.ADMIN)
    client.force_login(admin)
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200 and "La double authentification sera obligatoire" not in page.content.decode()


def test_a_plain_member_needs_no_second_factor(client):
    member = UserFactory()
    MembershipFactory(user=member, organisation=OrganisationFactory(site=True), role=Role.MEMBER)
    client.force_login(member)
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200 and "La double authentification sera obligatoire" not in page.content.decode()
    assert not Authenticator.objects.filter(user=member).exists()


def test_the_demo_gives_every_admin_a_second_factor():
    from passnum.demo import build

    output = build(embedded=True)
    for account in output["accounts"]:
        if account["role"] in ("admin", "finance"):
            assert account.get("totp_secret"), account["email"]

"""Who creates and revokes tokens, and when a token stops working."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from passnum.organisations.models import ApiToken
from passnum.organisations.services import create_api_token, remove_member
from tests.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def _api(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.mark.parametrize("kind", ["funder", "site", "prescriber"])
def test_a_member_who_is_not_admin_cannot_create_tokens(client, member_of, kind):
    organisation = OrganisationFactory(kind=kind)
    client.force_login(member_of(organisation, role="member"))
    response = client.post("/organisation/jetons/", {"name": "Mon appareil"})
    assert response.status_code == 403
    assert not ApiToken.objects.filter(organisation=organisation).exists()


def test_an_admin_creates_tokens(client, member_of):
    organisation = OrganisationFactory(site=True)
    client.force_login(member_of(organisation, role="admin"))
    response = client.post("/organisation/jetons/", {"name": "Douchette"})
    assert response.status_code == 200
    token = ApiToken.objects.get(organisation=organisation)
    assert token.expires_at.date() == (timezone.now() + datetime.timedelta(days=365)).date()


def test_a_member_revokes_their_own_token_but_not_a_colleagues(client, member_of):
    organisation = OrganisationFactory(site=True)
    member, colleague = member_of(organisation, role="member"), member_of(organisation, role="member")
    own, _ = create_api_token(organisation=organisation, user=member, name="le mien")
    other, _ = create_api_token(organisation=organisation, user=colleague, name="le sien")
    client.force_login(member)
    assert client.post(f"/organisation/jetons/{other.pk}/revoquer/").status_code == 403
    assert client.post(f"/organisation/jetons/{own.pk}/revoquer/").status_code == 302
    own.refresh_from_db(), other.refresh_from_db()
    assert own.revoked_at is not None and other.revoked_at is None


def test_an_admin_revokes_anyones_token(client, member_of):
    organisation = OrganisationFactory(site=True)
    admin, colleague = member_of(organisation, role="admin"), member_of(organisation, role="member")
    other, _ = create_api_token(organisation=organisation, user=colleague, name="le sien")
    client.force_login(admin)
    assert client.post(f"/organisation/jetons/{other.pk}/revoquer/").status_code == 302
    other.refresh_from_db()
    assert other.revoked_at is not None


def test_a_token_expires(settings, member_of):
    settings.PASSNUM_TOKEN_LIFETIME_DAYS = 30
    organisation = OrganisationFactory(site=True)
    _token, key = create_api_token(organisation=organisation, user=member_of(organisation), name="tablette")
    assert _api(key).get("/api/v1/me").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        assert _api(key).get("/api/v1/me").status_code == 401


def test_a_password_change_kills_the_persons_tokens(member_of):
    organisation = OrganisationFactory(site=True)
    user = member_of(organisation)
    _token, key = create_api_token(organisation=organisation, user=user, name="tablette")
    user.set_password("un-tout-nouveau-mot-de-passe")
    user.save()
    assert _api(key).get("/api/v1/me").status_code == 401
    assert ApiToken.objects.get().revoked_at is not None


def test_a_removed_membership_kills_its_tokens(member_of):
    organisation = OrganisationFactory(site=True)
    admin, user = member_of(organisation), member_of(organisation, role="member")
    token, _key = create_api_token(organisation=organisation, user=user, name="tablette")
    remove_member(membership=user.memberships.get(), by=admin)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_membership_deleted_in_the_admin_kills_its_tokens(member_of):
    organisation = OrganisationFactory(site=True)
    user = member_of(organisation, role="member")
    token, _key = create_api_token(organisation=organisation, user=user, name="tablette")
    MembershipFactory(user=user)  # another organisation's token would survive
    user.memberships.get(organisation=organisation).delete()
    token.refresh_from_db()
    assert token.revoked_at is not None

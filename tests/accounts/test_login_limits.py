"""Password guessing on the token endpoint, and the client IP behind the proxy."""

import pytest
from django.test import RequestFactory, override_settings

from passnum.audit.models import AuditLog
from passnum.client_ip import client_ip
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory

URL = "/api/v1/auth/token/"


def _ask(client, email, password, ip="203.0.113.7"):
    return client.post(
        URL, {"email": email, "password": password}, content_type="application/json", HTTP_X_FORWARDED_FOR=ip
    )


@pytest.mark.django_db
def test_guessing_with_a_rotating_forwarded_header_never_yields_a_token(client):
    user = UserFactory()
    MembershipFactory(user=user, organisation=OrganisationFactory(prescriber=True))
    answers = [_ask(client, user.email, "pas le bon", ip=f"198.51.100.{n}").status_code for n in range(25)]
    assert 429 in answers and 201 not in answers
    # The right password now: the account's limit still holds, no token.
    response = _ask(client, user.email, DEFAULT_PASSWORD, ip="198.51.100.200")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert not user.api_tokens.exists()


@pytest.mark.django_db
def test_failures_on_the_token_endpoint_count_for_the_web_login(client):
    user = UserFactory()
    MembershipFactory(user=user, organisation=OrganisationFactory(prescriber=True))
    for _ in range(5):
        assert _ask(client, user.email, "pas le bon").status_code == 401
    # The web form now refuses the account too: one counter for both doors.
    response = client.post("/compte/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_failed_token_requests_and_failed_logins_are_audited(client):
    user = UserFactory()
    MembershipFactory(user=user, organisation=OrganisationFactory(prescriber=True))
    _ask(client, user.email, "pas le bon")
    client.post("/compte/login/", {"login": user.email, "password": "toujours pas"})
    actions = list(AuditLog.objects.order_by("pk").values_list("action", "target_repr"))
    assert actions == [("api_token.request_failed", user.email), ("login.failed", user.email)]
    assert all("pas le bon" not in str(entry.after) for entry in AuditLog.objects.all())


@pytest.mark.django_db
def test_a_password_alone_never_gives_a_token_to_an_account_with_a_second_factor(client):
    user = UserFactory(with_mfa=True)
    MembershipFactory(user=user, organisation=OrganisationFactory(prescriber=True))
    response = _ask(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_account"


def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@override_settings(PASSNUM_TRUSTED_PROXIES=0)
def test_without_a_trusted_proxy_the_forwarded_header_is_ignored():
    assert client_ip(_request("192.0.2.1", "203.0.113.9")) == "192.0.2.1"


@override_settings(PASSNUM_TRUSTED_PROXIES=1)
def test_behind_one_trusted_proxy_the_client_is_the_last_forwarded_entry():
    # The client wrote « 1.2.3.4 » itself; our proxy appended the address it really saw.
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"  # did not cross the proxy


@override_settings(PASSNUM_TRUSTED_PROXIES=2)
def test_behind_two_trusted_proxies():
    assert client_ip(_request("10.0.0.3", "1.2.3.4, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"


@pytest.mark.django_db
@override_settings(PASSNUM_TRUSTED_PROXIES=1)
def test_behind_the_proxy_each_client_has_its_own_login_bucket(client):
    """All requests come from the proxy's address: one person's failures must not lock out others."""
    victim = UserFactory()
    MembershipFactory(user=victim, organisation=OrganisationFactory(prescriber=True))
    for n in range(12):  # beyond the 10 per minute and per IP, from one client
        _ask(client, f"inconnu{n}@exemple.fr", "pas le bon", ip="198.51.100.66")
    other = _ask(client, victim.email, DEFAULT_PASSWORD, ip="203.0.113.80")
    assert other.status_code == 201
    audited = AuditLog.objects.filter(action="api_token.request_failed").values_list("ip_address", flat=True)
    assert set(audited) == {"198.51.100.66"}


@pytest.mark.django_db
@override_settings(PASSNUM_TRUSTED_PROXIES=1)
def test_the_audit_log_records_the_client_behind_the_proxy(client):
    user = UserFactory()
    MembershipFactory(user=user, organisation=OrganisationFactory(prescriber=True))
    assert _ask(client, user.email, DEFAULT_PASSWORD, ip="203.0.113.44").status_code == 201
    assert AuditLog.objects.get(action="api_token.created").ip_address == "203.0.113.44"

import pytest
from django.urls import reverse

from passnum.audit.models import AuditLog
from passnum.organisations.enums import Role
from passnum.organisations.models import ApiToken
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def get_token(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(
        reverse("api:auth-token"), {"email": email, "password": password, **extra}, content_type="application/json"
    )


def test_device_gets_a_token_and_acts_for_its_organisation(client):
    organisation = OrganisationFactory(site=True, name="EPN de Talence")
    user = UserFactory(email="scan@exemple.fr")
    MembershipFactory(user=user, organisation=organisation, role=Role.MEMBER)
    response = get_token(client, "scan@exemple.fr", device="Téléphone")
    assert response.status_code == 201
    key = response.json()["token"]
    assert key.startswith("pn_")
    token = ApiToken.objects.get()
    assert token.key_hash != key and key not in token.key_hash  # only the hash is kept
    assert AuditLog.objects.filter(action="api_token.created").exists()

    me = client.get(reverse("api:me"), headers={"authorization": f"Token {key}"})
    assert me.status_code == 200
    assert me.json()["organisation"]["name"] == "EPN de Talence"
    assert me.json()["role"] == "member"


def test_revoked_token_and_removed_member_lose_access(client):
    user = UserFactory(email="scan@exemple.fr")
    membership = MembershipFactory(user=user)
    key = get_token(client, "scan@exemple.fr").json()["token"]
    headers = {"authorization": f"Token {key}"}
    assert client.get(reverse("api:me"), headers=headers).status_code == 200
    membership.is_active = False
    membership.save()
    refused = client.get(reverse("api:me"), headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "not_authenticated"
    membership.is_active = True
    membership.save()
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get(reverse("api:me"), headers=headers).status_code == 401


def test_wrong_password_and_mfa_accounts_are_refused(client):
    UserFactory(email="agent@exemple.fr")
    wrong = get_token(client, "agent@exemple.fr", "mauvais")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == {"code": "invalid_credentials", "message": "E-mail ou mot de passe incorrect."}
    finance = UserFactory(email="finance@exemple.fr", with_mfa=True)
    MembershipFactory(user=finance, role=Role.FINANCE)
    refused = get_token(client, "finance@exemple.fr")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "mfa_account"
    assert not ApiToken.objects.exists()


def test_garbage_body_gets_a_clear_error_never_a_500(client):
    response = client.post(reverse("api:auth-token"), "{pas du json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid", "parse_error"}
    response = get_token(client, "pas-un-email", "x" * 10_000)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email", "password"}


def test_public_referential(client):
    from aptic_catalog.services import ensure_referential_loaded

    ensure_referential_loaded()
    response = client.get(reverse("api:referential-service-list"), {"q": "messagerie"})
    assert response.status_code == 200
    assert response.json()["count"] >= 1
    one = client.get(reverse("api:referential-service-detail", args=[1]))
    assert one.json()["code"] == 1 and one.json()["level"] == 1
    assert client.get(reverse("api:referential-service-detail", args=[999])).json()["error"]["code"] == "not_found"


def test_tokens_page_creates_shows_once_and_revokes(client, member_of):
    organisation = OrganisationFactory(site=True)
    client.force_login(member_of(organisation))
    created = client.post(reverse("organisations:api_tokens"), {"name": "Tablette"})
    assert "Copiez-le maintenant" in created.content.decode()
    token = ApiToken.objects.get()
    assert "Copiez-le" not in client.get(reverse("organisations:api_tokens")).content.decode()
    client.post(reverse("organisations:revoke_api_token", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None

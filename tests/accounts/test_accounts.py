import re
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse

from passnum.organisations.enums import Role
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(client, email, password=DEFAULT_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_login_by_email(client):
    user = UserFactory(email="agent@exemple.fr")
    MembershipFactory(user=user)
    response = login(client, "Agent@Exemple.fr")
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).context["user"] == user


def test_wrong_password_ten_times_is_throttled(client):
    UserFactory(email="cible@exemple.fr")
    statuses = []
    for _ in range(10):
        response = login(client, "cible@exemple.fr", "mauvais-mot-de-passe")
        statuses.append(response.status_code)
    assert "Trop de tentatives de connexion" in response.content.decode()
    assert statuses.count(200) == 10  # the form is shown again each time, never a 500
    # Even the right password is refused while throttled.
    response = login(client, "cible@exemple.fr")
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session


def test_signup_requires_email_verification(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "nouveau@exemple.fr",
            "password1": "une-phrase-de-passe-longue",
            "password2": "une-phrase-de-passe-longue",
        },
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "_auth_user_id" not in client.session


def test_password_reset_link_works_end_to_end(client):
    """Request a reset, read the e-mail, follow its link, choose a password, log in with it."""
    user = UserFactory(email="oubli@exemple.fr")
    MembershipFactory(user=user)
    response = client.post(reverse("account_reset_password"), {"email": "oubli@exemple.fr"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["oubli@exemple.fr"]
    links = re.findall(r"https?://[^\s\"'<>]+/password/reset/key/[^\s\"'<>]+", message.body)
    assert len(links) == 1, message.body
    path = urlsplit(links[0]).path

    # The link's key goes into the session and the page asks for the new password.
    page = client.get(path, follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else path
    assert "password1" in page.context["form"].fields
    new_password = "un-nouveau-mot-de-passe-2026"
    done = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert done.status_code == 302, done.context["form"].errors if done.context else done

    client.logout()
    assert login(client, "oubli@exemple.fr").status_code == 200  # the old password no longer works
    assert login(client, "oubli@exemple.fr", new_password).status_code == 302
    assert client.get(reverse("dashboard")).context["user"] == user
    # The link served once: following it again says it is no longer valid.
    client.logout()
    again = client.get(path, follow=True)
    assert again.context["token_fail"] is True


@pytest.mark.parametrize("kind_and_role", [("operator", Role.MEMBER), ("sponsor", Role.FINANCE)])
def test_mfa_is_required_for_operator_and_finance(client, kind_and_role):
    kind, role = kind_and_role
    user = UserFactory()
    MembershipFactory(user=user, organisation=OrganisationFactory(kind=kind), role=role)
    login(client, user.email)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_activate_totp"))
    # Setting up a second factor asks for the password again (allauth), then shows the QR code.
    reauthenticate = client.get(response.url)
    assert reauthenticate.url.startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    set_up = client.get(response.url)
    assert set_up.status_code == 200
    assert "double authentification" in set_up.content.decode()


def test_mfa_is_not_forced_on_other_roles(client):
    user = UserFactory()
    MembershipFactory(user=user, organisation=OrganisationFactory(prescriber=True), role=Role.MEMBER)
    client.force_login(user)
    assert client.get(reverse("dashboard")).status_code == 200


def test_login_of_a_user_with_totp_asks_for_the_code(client):
    user = UserFactory(email="finance@exemple.fr", with_mfa=True)
    MembershipFactory(user=user, role=Role.FINANCE)
    response = login(client, "finance@exemple.fr")
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session


def test_admin_is_behind_login_and_mfa(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin_login") in response.url or reverse("account_login") in response.url
    staff_without_mfa = UserFactory(staff=True)
    client.force_login(staff_without_mfa)
    response = client.get(reverse("admin:index"))
    assert response.url.startswith(reverse("mfa_activate_totp"))
    Authenticator.objects.create(user=staff_without_mfa, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_login_redirects_to_allauth(client):
    response = client.get(reverse("admin_login") + "?next=/admin/")
    assert response.status_code == 302
    assert response.url == reverse("account_login") + "?next=/admin/"
    evil = client.get(reverse("admin_login") + "?next=https://ailleurs.example/")
    assert evil.url == reverse("account_login") + "?next=" + reverse("admin:index")


def test_admin_refuses_non_staff_users_without_a_redirect_loop(client):
    user = UserFactory()
    MembershipFactory(user=user)
    client.force_login(user)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403
    assert "réservée au personnel de l&#x27;opérateur" in response.content.decode()

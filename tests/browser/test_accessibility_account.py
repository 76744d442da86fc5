"""Accessibility of the account pages a person reaches through a flow, to WCAG 2.1 AA /
RGAA: sign-up and e-mail confirmation (a real key, from the e-mail), password reset from the
key of the e-mail, the second factor at login, its forced set-up for a role that requires it,
recovery codes, reauthentication, password change and logout confirmation.

Each flow is gone through as a person would, in the browser; every page reached on the way is
checked like the walk of every page (``tests.browser.walk``). Then every account page without
parameter is visited twice: by a session just opened with the password and the second factor
(the pages themselves), and by a session opened long ago (they ask to reauthenticate).
"""

import re

import pytest
from django.urls import URLResolver, get_resolver, reverse

from passnum.organisations.enums import Role
from tests.browser.a11y import REFLOW_VIEWPORT
from tests.browser.support import demo_account, totp_code
from tests.browser.walk import Walk
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("quiet_request_log")]

ACCOUNT_PREFIX = "compte/"
NEW_PASSWORD = "un-autre-mot-de-passe-solide"


def account_pages():
    """``[(name, url)]``: every page of the account space (allauth) without URL parameter."""
    pages = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == ACCOUNT_PREFIX:
            for pattern in _flatten(entry.url_patterns):
                if pattern.name and not pattern.pattern.regex.groupindex:
                    pages.append((pattern.name, reverse(pattern.name)))
    return pages


def _flatten(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _flatten(entry.url_patterns)
        else:
            yield entry


def link_in_last_mail(mailoutbox, url_name):
    """The path of the link to ``url_name`` in the last e-mail sent (the key is in it)."""
    assert mailoutbox, "aucun e-mail envoyé"
    prefix = reverse(url_name, kwargs=_placeholder_kwargs(url_name)).split("PLACEHOLDER")[0]
    match = re.search(re.escape(prefix) + r"[^\s\"'<>]+", mailoutbox[-1].body)
    assert match, f"pas de lien {prefix}… dans l'e-mail :\n{mailoutbox[-1].body}"
    return match.group(0)


def _placeholder_kwargs(url_name):
    if url_name == "account_reset_password_from_key":
        return {"uidb36": "PLACEHOLDER", "key": "x"}
    return {"key": "PLACEHOLDER"}


def submit(page):
    """Sends the main form of the page, as its submit button does."""
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()


def fresh_page(new_context):
    page = new_context().new_page()
    page.set_viewport_size(REFLOW_VIEWPORT)  # axe-core switches to its widths when it runs
    return page


def log_in_with_form(page, walk, role, email, password, seen, *, secret=None):
    page.goto(reverse("account_login"))
    page.locator("main input[name=login]").fill(email)
    page.locator("main input[name=password]").fill(password)
    submit(page)
    if secret is not None:
        assert page.url.split("?")[0].endswith(reverse("mfa_authenticate")), page.url
        walk.check(page, role, seen)  # the code entry at login
        page.locator("main input[name=code]").fill(totp_code(secret))
        submit(page)


def test_account_and_second_factor_pages_are_accessible(demo, new_context, login_as, mailoutbox):
    walk = Walk()
    pages = account_pages()

    # Sign-up, then the confirmation link of the e-mail.
    seen = set()
    page = fresh_page(new_context)
    page.goto(reverse("account_signup"))
    page.locator("main input[name=email]").fill("nouvelle.personne@exemple.fr")
    page.locator("main input[name=password1]").fill(NEW_PASSWORD)
    page.locator("main input[name=password2]").fill(NEW_PASSWORD)
    submit(page)
    walk.check(page, "inscription", seen)  # « vérifiez vos e-mails »
    walk.visit(page, "inscription", link_in_last_mail(mailoutbox, "account_confirm_email"), seen)
    submit(page)  # confirms the address
    walk.check(page, "inscription", seen)
    walk.visit(page, "inscription", reverse("account_logout"), seen)  # logout confirmation

    # Forgotten password: the key of the e-mail, the new password.
    seen = set()
    user = UserFactory()
    page = fresh_page(new_context)
    page.goto(reverse("account_reset_password"))
    walk.check(page, "mot de passe oublié", seen)
    page.locator("main input[name=email]").fill(user.email)
    submit(page)
    walk.check(page, "mot de passe oublié", seen)
    walk.visit(page, "mot de passe oublié", link_in_last_mail(mailoutbox, "account_reset_password_from_key"), seen)
    page.locator("main input[name=password1]").fill(NEW_PASSWORD)
    page.locator("main input[name=password2]").fill(NEW_PASSWORD)
    submit(page)
    walk.check(page, "mot de passe oublié", seen)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD), "le mot de passe n'a pas été changé par le lien de l'e-mail"

    # A finance role must set up the second factor: forced set-up, then the recovery codes.
    seen = set()
    finance = UserFactory()
    MembershipFactory(user=finance, organisation=OrganisationFactory(sponsor=True), role=Role.FINANCE)
    page = fresh_page(new_context)
    log_in_with_form(page, walk, "finances sans 2FA", finance.email, DEFAULT_PASSWORD, seen)
    page.goto(reverse("dashboard"))
    if page.url.split("?")[0].endswith(reverse("account_reauthenticate")):
        walk.check(page, "finances sans 2FA", seen)  # reauthentication before a sensitive change
        page.locator("main input[name=password]").fill(DEFAULT_PASSWORD)
        submit(page)
    assert page.url.split("?")[0].endswith(reverse("mfa_activate_totp")), page.url
    walk.check(page, "finances sans 2FA", seen)
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("main input[name=code]").fill(totp_code(secret))
    submit(page)
    walk.check(page, "finances sans 2FA", seen)  # the recovery codes just made
    assert finance.authenticator_set.filter(type="totp").exists(), "la double authentification n'est pas activée"

    # The operator logs in with the second factor; every account page, as they are.
    seen = set()
    operator = demo_account(demo, "operateur")
    page = fresh_page(new_context)
    log_in_with_form(
        page, walk, "opérateur", operator["email"], operator["password"], seen, secret=operator["totp_secret"]
    )
    for _, url in pages:
        walk.visit(page, "opérateur", url, seen)
    page.goto(reverse("account_change_password"))
    page.locator("main input[name=oldpassword]").fill(operator["password"])
    page.locator("main input[name=password1]").fill(NEW_PASSWORD)
    page.locator("main input[name=password2]").fill(NEW_PASSWORD)
    submit(page)
    walk.check(page, "opérateur", seen)  # after the change: the confirmation message

    # A session opened long ago: the sensitive pages ask to reauthenticate (password or code).
    for role in ["operateur", "site"]:
        seen = set()
        page = login_as(role)
        page.set_viewport_size(REFLOW_VIEWPORT)
        for _, url in pages:
            walk.visit(page, f"{role} (session ancienne)", url, seen)

    # Anonymous visitors: what is left of the account space.
    seen = set()
    page = fresh_page(new_context)
    for _, url in pages:
        walk.visit(page, "anonyme", url, seen)

    reached = {key.split("?")[0] for key in walk.keys}
    expected = {
        "code à la connexion": reverse("mfa_authenticate"),
        "mise en place forcée": reverse("mfa_activate_totp"),
        "codes de récupération": reverse("mfa_view_recovery_codes"),
        "réauthentification (mot de passe)": reverse("account_reauthenticate"),
        "réauthentification (code)": reverse("mfa_reauthenticate"),
        "changement du mot de passe": reverse("account_change_password"),
        "confirmation de déconnexion": reverse("account_logout"),
        "e-mail envoyé": reverse("account_email_verification_sent"),
    }
    missing = [f"{what} ({url})" for what, url in expected.items() if url not in reached]
    assert not missing, "pages du compte jamais atteintes : " + ", ".join(missing)
    for what, prefix in [
        ("confirmation de l'adresse", "/compte/confirm-email/"),
        ("nouveau mot de passe", "/compte/password/reset/key/"),
    ]:
        assert any(key.startswith(prefix) and key != prefix for key in reached), f"{what} : page jamais atteinte"
    walk.assert_clean()

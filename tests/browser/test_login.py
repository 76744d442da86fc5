"""Logging in with a real browser: the login form, then the second factor. (The sessions the
``login_as`` fixture gives each demo role are checked by the walk of every page.)"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.support import demo_account, totp_code

pytestmark = pytest.mark.browser


def test_operator_logs_in_with_password_and_totp_code(demo, page):
    account = demo_account(demo, "operateur")
    assert account.get("totp_secret"), "le compte de l'opérateur de la démo doit avoir la double authentification"

    page.goto(reverse("account_login"))
    page.get_by_label("Courriel").fill(account["email"])
    page.get_by_label("Mot de passe").fill(account["password"])
    page.get_by_role("button", name="Connexion", exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_authenticate")) + r"$"))
    page.locator("main input[name=code]").fill(totp_code(account["totp_secret"]))
    page.get_by_role("button", name="Connexion", exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(reverse("dashboard")) + r"$"))
    expect(page.locator("h1")).to_have_text("Mon espace")
    expect(page.locator(".acting-for")).to_contain_text(account["organisation"])

"""Demo roles and logging in, shared by the fixtures and the tests of the browser suite."""

import time
from pathlib import Path

from django.conf import settings
from django.test import Client

from passnum.demo import ACCOUNTS

ANONYMOUS = "anonyme"

# Without the background-networking flags, Chromium keeps calling home on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ROOT = Path(__file__).resolve().parents[2]
# Screenshots of failures, kept by the CI as test artifacts (git-ignored).
ARTIFACTS = ROOT / "test-artifacts"


def role_key(email):
    """A demo role is named after the local part of its account's e-mail (``site``, ``finances``…)."""
    return email.split("@", 1)[0]


# Every account of the demo, so that a role added to the demo is tested without any change here.
DEMO_ROLES = [role_key(email) for email, *_ in ACCOUNTS]


def demo_account(demo, role):
    """The entry of the demo output for ``role``: e-mail, password, role, organisation, kind…"""
    for account in demo["accounts"]:
        if role_key(account["email"]) == role:
            return account
    raise LookupError(f"Aucun compte de démo pour le rôle {role!r} (rôles : {', '.join(DEMO_ROLES)}).")


def demo_user(demo, role):
    from passnum.accounts.models import User

    return User.objects.get(email=demo_account(demo, role)["email"])


def log_in(context, user, base_url):
    """Gives a browser context a session of ``user``, made by Django's test client (no login form)."""
    client = Client()
    client.force_login(user)
    cookie_name = settings.SESSION_COOKIE_NAME
    context.add_cookies([{"name": cookie_name, "value": client.cookies[cookie_name].value, "url": base_url}])


def totp_code(secret):
    """The current code of an authenticator app (RFC 6238), never one about to expire."""
    from allauth.mfa import app_settings as mfa_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))

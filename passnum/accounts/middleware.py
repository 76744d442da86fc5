from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from passnum.accounts.mfa import has_mfa, requires_mfa

# Paths a user who must set up MFA can still reach: account pages, static files, health.
ALLOWED_PREFIXES = ("/compte/", "/static/", "/healthz", "/i18n/")


class RequireMFAMiddleware:
    """Sends users whose role requires two-factor authentication to set it up first.

    Once a TOTP authenticator exists, allauth asks for a code at every login, so an
    authenticated user who has one has passed the second factor.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and requires_mfa(user, request.memberships)
            and not has_mfa(user)
        ):
            messages.warning(
                request,
                "Votre rôle donne accès à des données sensibles : activez la double authentification "
                "(application d'authentification sur votre téléphone) pour continuer.",
            )
            return redirect(reverse("mfa_activate_totp") + "?next=" + request.path)
        return self.get_response(request)

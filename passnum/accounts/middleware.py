from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from passnum.accounts.mfa import grace_deadline, has_mfa, requires_mfa, requires_mfa_at_once

# Paths a user who must set up MFA can still reach: account pages, static files, health.
ALLOWED_PREFIXES = ("/compte/", "/static/", "/healthz", "/i18n/")


class RequireMFAMiddleware:
    """Sends users whose role requires two-factor authentication to set it up first.

    Operator staff and finance roles must do it at once; other administrators get a grace period
    (``PASSNUM_MFA_GRACE_DAYS``) with a banner on every page, then the page that explains why.
    Once a TOTP authenticator exists, allauth asks for a code at every login, so an
    authenticated user who has one has passed the second factor.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.mfa_grace_until = None
        if user.is_authenticated and requires_mfa(user, request.memberships) and not has_mfa(user):
            if requires_mfa_at_once(user, request.memberships):
                if not request.path.startswith(ALLOWED_PREFIXES):
                    messages.warning(
                        request,
                        "Votre rôle donne accès à des données sensibles : activez la double authentification "
                        "(application d'authentification sur votre téléphone) pour continuer.",
                    )
                    return redirect(reverse("mfa_activate_totp") + "?next=" + request.path)
            else:
                deadline = grace_deadline(user)
                if timezone.now() < deadline:
                    request.mfa_grace_until = deadline
                elif not request.path.startswith(ALLOWED_PREFIXES):
                    return redirect(reverse("mfa_required") + "?next=" + request.path)
        return self.get_response(request)

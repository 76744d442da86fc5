"""Per-organisation API tokens: ``Authorization: Token <key>``.

Kept apart from ``passnum.api`` because DRF imports authentication classes while its own
views module is loading.
"""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed


class OrganisationTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>``: the request acts for the token's organisation."""

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("En-tête Authorization mal formé : « Token <clé> ».")
        from passnum.organisations.selectors import token_for_key

        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise AuthenticationFailed("Jeton invalide.") from exc
        token = token_for_key(key)
        if token is None:
            raise AuthenticationFailed("Jeton invalide ou révoqué.")
        # Recorded at most once a minute per token to keep the hot path free of writes.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class OrganisationTokenScheme(OpenApiAuthenticationExtension):
    target_class = OrganisationTokenAuthentication
    name = "jetonOrganisation"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Jeton d'organisation : `Token pn_…` (créé dans l'espace de l'organisation).",
        }

"""API conventions shared by every app.

- Errors are ``{"error": {"code", "message", ...}}`` with a French message (``exception_handler``).
- A request acts for one organisation: the token's, or the session's (``api_organisation``);
  ``TenantScopedMixin`` filters a view's queryset through it, so another organisation's
  object answers 404 — the same mechanism as the HTML views (docs/architecture.md).
- ``ERROR_RESPONSES`` documents the error codes in the OpenAPI schema.
"""

import hashlib
import json
import re

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from passnum.errors import DomainError
from passnum.refusals import Refusal

DRF_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: Refusal.RATE_LIMITED,
}

FRENCH_MESSAGES = {
    "not_authenticated": "Authentification requise : connectez-vous ou envoyez un jeton valable.",
    "permission_denied": "Vous n'avez pas le droit de faire cela.",
    "not_found": "Cet élément n'existe pas.",
    "method_not_allowed": "Méthode non autorisée.",
    "not_acceptable": "Format de réponse non disponible.",
    "unsupported_media_type": "Format de requête non pris en charge : envoyez du JSON.",
    Refusal.RATE_LIMITED: "Trop de tentatives : réessayez dans quelques instants.",
    "csrf_failed": "Jeton CSRF absent ou invalide : rechargez la page, puis recommencez.",
    "invalid": "Données invalides : corrigez les champs signalés.",
}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if getattr(exc, "retry_after", None) else None
        return Response(exc.as_dict(), status=exc.status, headers=headers)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = DRF_CODES.get(response.status_code, "error")
    if isinstance(exc, PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        # A session request without its CSRF token: say so, not "no right to do this".
        code = "csrf_failed"
    body = {"code": code, "message": FRENCH_MESSAGES.get(code, "Requête refusée.")}
    if code == "invalid":
        body["fields"] = response.data
    response.data = {"error": body}
    return response


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Code machine stable de la raison du refus.")
    message = serializers.CharField(help_text="Explication en français.")
    fields = serializers.DictField(required=False, help_text="Erreurs par champ (code « invalid »).")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_response(description):
    return OpenApiResponse(ErrorSerializer, description=description)


ERROR_RESPONSES = {
    400: error_response("Données invalides (`invalid`) ou refus métier (code dans `error.code`)."),
    401: error_response("`not_authenticated` : ni session ni jeton valable."),
    403: error_response(
        "`permission_denied` : rôle ou type d'organisation insuffisant ; `csrf_failed` : requête de session "
        "sans jeton CSRF."
    ),
    404: error_response("`not_found` : inexistant ou appartenant à une autre organisation."),
    429: error_response("`rate_limited` : trop de requêtes ; voir l'en-tête Retry-After."),
}
PUBLIC_ERROR_RESPONSES = {code: ERROR_RESPONSES[code] for code in (400, 404, 429)}


def api_organisation(request):
    """The organisation an API request acts for: its token's, else the session's."""
    token = getattr(request, "auth", None)
    if token is not None and hasattr(token, "organisation"):
        return token.organisation
    return getattr(request._request, "organisation", None)


class TenantScopedMixin:
    """For DRF views: the queryset goes through ``for_organisation`` (404 for others' objects)."""

    def get_queryset(self):
        return super().get_queryset().for_organisation(api_organisation(self.request))


class Pagination(PageNumberPagination):
    """Page numbers must be positive integers: anything else is refused, not read as page 1."""

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_query_param: ["Numéro de page invalide : un entier à partir de 1."]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


# --- Idempotency keys (POST endpoints that a device may retry) ------------------------------

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=True,
    type=str,
    pattern=IDEMPOTENCY_KEY.pattern,
    description="Clé unique choisie par le client pour cette opération (1 à 100 caractères) : "
    "la rejouer renvoie la première réponse sans rien refaire.",
    examples=[OpenApiExample("Une clé par opération", value="2f1c8e0a-6b1d-4d6e-9d0b-3c2a7e5f9a41")],
)


def path_parameter(name, type_, description, example):
    """A path parameter documented with a real-looking example (read by API clients and by the
    contract test, which swaps it for a real value of the test's data)."""
    return OpenApiParameter(
        name,
        location=OpenApiParameter.PATH,
        type=type_,
        description=description,
        examples=[OpenApiExample("Exemple", value=example)],
    )


def idempotency_key(request):
    """The request's ``Idempotency-Key`` header, or a refusal ``idempotency_key_invalid``."""
    key = request.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY.match(key):
        raise DomainError(
            "En-tête Idempotency-Key manquant ou invalide (1 à 100 lettres, chiffres, « _ . : - »).",
            code=Refusal.IDEMPOTENCY_KEY_INVALID,
            field="Idempotency-Key",
        )
    return key


def answer_response(status, body):
    """An answer of ``passnum.idempotency`` as sent the first time: its status and its JSON
    text, byte for byte (not re-rendered by DRF)."""
    return HttpResponse(body, status=status, content_type="application/json")


def request_hash(data):
    """Fingerprint of a request body: a key replayed with another body is refused."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


# --- Strict JSON fields (the schema says integer, boolean, string: nothing else is read as one) ---


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true``/``false`` only (no "yes", 1…): the schema says boolean."""

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid", input=data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only (no "1", 1.0 or true): the schema says integer."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    """A JSON string only (no number turned into text); control characters and lone surrogates,
    which the schema allows, are dropped rather than refused."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if type(v).__name__ != "ProhibitNullCharactersValidator"]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not data.isprintable():
            data = data.encode("utf-8", "replace").decode("utf-8")
            data = "".join(ch for ch in data if ch.isprintable() or ch in "\n\t")
        return super().to_internal_value(data)

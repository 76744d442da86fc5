"""API conventions: every refusal is ``{"error": {"code", "message", ...}}``."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from passnum.errors import DomainError

DRF_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "rate_limited",
}

FRENCH_MESSAGES = {
    "not_authenticated": "Authentification requise.",
    "permission_denied": "Vous n'avez pas le droit de faire cela.",
    "not_found": "Cet élément n'existe pas.",
    "method_not_allowed": "Méthode non autorisée.",
    "not_acceptable": "Format de réponse non disponible.",
    "unsupported_media_type": "Format de requête non pris en charge : envoyez du JSON.",
    "rate_limited": "Trop de tentatives : réessayez dans quelques instants.",
    "invalid": "Données invalides.",
}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = DRF_CODES.get(response.status_code, "error")
    body = {"code": code, "message": FRENCH_MESSAGES.get(code, "Requête refusée.")}
    if code == "invalid":
        body["fields"] = response.data
    response.data = {"error": body}
    return response

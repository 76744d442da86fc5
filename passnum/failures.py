"""What a user sees when part of the platform fails.

- Under ``/api/`` every error is ``{"error": {"code", "message"}}``, never an HTML page: the
  handlers of ``passnum/views.py`` answer so, and ``ServiceFailureMiddleware`` rewrites any other
  non-JSON error response (a 405 of a plain Django view, a 413…).
- A lost database connection (PostgreSQL restarted, backend terminated, failover) answers 503
  with ``Retry-After``: JSON ``database_unavailable`` under /api/, a French page elsewhere. The
  request's transaction was rolled back by PostgreSQL, so nothing is half-written; Django drops
  the broken connection at the end of the request and ``CONN_HEALTH_CHECKS`` checks a persistent
  one before reusing it, so the next request gets a fresh connection.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger("passnum.failures")

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5

API_ERROR_CODES = {
    400: ("bad_request", "Requête invalide."),
    403: ("permission_denied", "Vous n'avez pas le droit de faire cela."),
    404: ("not_found", "Cet élément n'existe pas."),
    405: ("method_not_allowed", "Méthode non autorisée."),
    413: ("request_too_large", "Requête trop volumineuse."),
    500: ("server_error", "Erreur interne : réessayez dans quelques instants."),
    503: ("service_unavailable", "Service momentanément indisponible : réessayez dans quelques instants."),
}
DATABASE_UNAVAILABLE = (
    "database_unavailable",
    "Service momentanément indisponible : rien n'a été enregistré, réessayez dans quelques secondes.",
)


def is_api(request):
    return request.path.startswith("/api/")


def api_error(status, code=None, message=None):
    default_code, default_message = API_ERROR_CODES.get(status, ("error", "Requête refusée."))
    body = {"error": {"code": code or default_code, "message": message or default_message}}
    return JsonResponse(body, status=status)


def database_unavailable(request):
    """The answer to a request whose database connection was lost: 503, retry shortly."""
    api = is_api(request)
    response = api_error(503, *DATABASE_UNAVAILABLE) if api else render(request, "503.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def current_database_error():
    """The database error being handled, if the current exception is one (for ``handler500``)."""
    error = sys.exc_info()[1]
    return error if isinstance(error, DATABASE_ERRORS) else None


def _is_json(response):
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


class ServiceFailureMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api(request) and response.status_code >= 400 and not _is_json(response):
            rewritten = api_error(response.status_code)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    rewritten[header] = response[header]
            return rewritten
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("Base de données injoignable pendant %s %s : %s", request.method, request.path, exception)
            return database_unavailable(request)
        return None

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.cache import never_cache

from passnum import outbox
from passnum.api import FRENCH_MESSAGES
from passnum.failures import api_error, current_database_error, database_unavailable, is_api


def home(request):
    return render(request, "home.html")


@login_required
def dashboard(request):
    """The entry of each user's space, by the kind of organisation they act for."""
    return render(request, "dashboard.html")


@login_required
def operator_overview(request):
    """The whole scheme at a glance, for the operator's staff with a second factor (the same
    guard as the console: ``RequireMFAMiddleware`` sends staff without one to set it up first)."""
    from passnum.accounts.mfa import has_mfa
    from passnum.overview import scheme_overview

    if not request.user.is_staff or not has_mfa(request.user):
        raise PermissionDenied(
            "La vue d'ensemble est réservée au personnel de l'opérateur, avec la double authentification."
        )
    return render(request, "operator/overview.html", {"overview": scheme_overview()})


def admin_login(request):
    """The operator console has no login form of its own: allauth's, with its second factor."""
    if request.user.is_authenticated:
        # Logged in but not operator staff (the admin sends them here): no redirect loop.
        raise PermissionDenied("La console est réservée au personnel de l'opérateur.")
    next_url = request.GET.get("next", reverse("admin:index"))
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("admin:index")
    return redirect(f"{reverse('account_login')}?next={next_url}")


def csrf_failure(request, reason=""):
    # Under /api/, a view that is not DRF's (the API reference) says it the API's way too.
    if is_api(request):
        return api_error(403, "csrf_failed", FRENCH_MESSAGES["csrf_failed"])
    return render(request, "403_csrf.html", status=403)


@never_cache
def healthz(request):
    """Database, cache and broker status, for the load balancer and the operator's monitoring.
    Only the database is vital: without Redis, passes are still scanned (``"degraded"``, 200)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "down" for a health check
        checks["database"] = "error"
    ping = getattr(cache, "ping", None)
    checks["cache"] = "local" if ping is None else ("ok" if ping() else "error")
    if not settings.CELERY_BROKER_URL:
        checks["broker"] = "in-process"
    else:
        try:
            from passnum.celery import app

            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=1)
            checks["broker"] = "ok"
        except Exception:  # noqa: BLE001
            checks["broker"] = "error"
    if checks["database"] == "ok":
        checks["outbox"] = outbox.pending_count()  # tasks waiting for the broker
    if checks["database"] != "ok":
        state, status = "error", 503
    elif "error" in (checks["cache"], checks["broker"]):
        state, status = "degraded", 200
    else:
        state, status = "ok", 200
    return JsonResponse({"status": state, **checks}, status=status)


# --- Error handlers: the API's JSON under /api/, a French page elsewhere -----------------------


def bad_request(request, exception=None):
    return api_error(400) if is_api(request) else defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    return api_error(403) if is_api(request) else defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if is_api(request):
        return api_error(404, "not_found", FRENCH_MESSAGES["not_found"])
    return render(request, "404.html", status=404)


def server_error(request):
    # Also reached for an error raised by a middleware (the session, the organisation…).
    if current_database_error() is not None:
        return database_unavailable(request)
    return api_error(500) if is_api(request) else render(request, "500.html", status=500)

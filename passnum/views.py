from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from passnum.api import FRENCH_MESSAGES


def home(request):
    return render(request, "home.html")


@login_required
def dashboard(request):
    """The entry of each user's space, by the kind of organisation they act for."""
    return render(request, "dashboard.html")


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
    return render(request, "403_csrf.html", status=403)


@never_cache
def healthz(request):
    """Database and broker status, for the load balancer and the operator's monitoring."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "down" for a health check
        checks["database"] = "error"
    if not settings.CELERY_BROKER_URL:
        checks["broker"] = "in-process"
    else:
        try:
            from passnum.celery import app

            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception:  # noqa: BLE001
            checks["broker"] = "error"
    healthy = all(value in {"ok", "in-process"} for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _is_api(request):
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    """404 in the API's error format under /api/, the French page elsewhere."""
    if _is_api(request):
        return JsonResponse({"error": {"code": "not_found", "message": FRENCH_MESSAGES["not_found"]}}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _is_api(request):
        message = "Erreur interne : réessayez dans quelques instants."
        return JsonResponse({"error": {"code": "server_error", "message": message}}, status=500)
    return render(request, "500.html", status=500)

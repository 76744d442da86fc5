"""Routes of redeeming (site space) and of a pass's QR code, included by ``mediators.urls``."""

from django.urls import path

from mediators.redemption import views
from mediators.redemption.models import Redemption
from passnum.organisations.tenancy import public_path, tenant_path

urlpatterns = [
    # The scan page, its service worker, and the URL in a pass's QR code.
    path("site/scan/", views.scan, name="scan"),
    path("site/scan/sw.js", views.scan_service_worker, name="scan_service_worker"),
    public_path(
        "p/<path:code>",
        views.pass_landing,
        name="pass_landing",
        reason="URL du QR code imprimé sur un pass : ce qu'est le pass, s'il est valable et où l'utiliser",
    ),
    # The site's redemptions, their undo, its refused scans.
    path("site/encaissements/", views.redemptions, name="redemptions"),
    tenant_path(
        "site/encaissements/<uuid:pk>/annuler/", views.redemption_undo, name="redemption_undo", model=Redemption
    ),
    path("site/scans-refuses/", views.refused_scans, name="refused_scans"),
]

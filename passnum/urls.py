from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from passnum import api_reference, views
from passnum.accounts import views as account_views

admin.site.site_header = "Console de l'opérateur Passnum"
admin.site.site_title = "Passnum — opérateur"
admin.site.index_title = "Administration du Pass numérique"

urlpatterns = [
    # First: the API is where devices send many requests (a scan each), resolved before the pages.
    path("api/v1/", include(("passnum.api_urls", "api"), namespace="api")),
    path("", views.home, name="home"),
    path("espace/", views.dashboard, name="dashboard"),
    path("operateur/", views.operator_overview, name="operator_overview"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("compte/double-authentification-obligatoire/", account_views.mfa_required, name="mfa_required"),
    path("compte/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("passnum.organisations.urls")),
    path("", include("aptic_catalog.urls")),
    path("", include("passnum.territories.urls")),
    path("", include("mediators.urls")),
    path("", include("sponsors.urls")),
    path("", include("sponsors.calls.urls")),
    path("", include("sponsors.reporting.urls")),
    path("", include("sponsors.grants.urls")),
    path("", include("prescribers.urls")),
    path("", include("beneficiaries.urls")),
    path("", include("clearing.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_reference.api_docs, name="api-docs"),
]

# No route serves MEDIA_ROOT, whatever DEBUG says: print files, invoices and statements hold
# codes and personal data, so each file goes through a view that checks who asks.

handler400 = "passnum.views.bad_request"
handler403 = "passnum.views.permission_denied"
handler404 = "passnum.views.page_not_found"
handler500 = "passnum.views.server_error"

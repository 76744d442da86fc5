"""API endpoints of mediators, mounted under /api/v1/ in the "api" namespace."""

from django.urls import path

from mediators.places.api import SitesCsvOpenDataView, SitesOpenDataView
from mediators.redemption.api import PassCheckView, RedemptionsView, RedemptionView

urlpatterns = [
    path("sites", SitesOpenDataView.as_view(), name="sites-open-data"),
    path("sites.csv", SitesCsvOpenDataView.as_view(), name="sites-open-data-csv"),
    path("passes/<str:code>", PassCheckView.as_view(), name="pass-check"),
    path("redemptions", RedemptionsView.as_view(), name="redemptions"),
    path("redemptions/<uuid:pk>", RedemptionView.as_view(), name="redemption"),
]

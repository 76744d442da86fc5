"""API endpoints of mediators, mounted under /api/v1/ in the "api" namespace."""

from django.urls import path

from mediators.api import SitesCsvOpenDataView, SitesOpenDataView

urlpatterns = [
    path("sites", SitesOpenDataView.as_view(), name="sites-open-data"),
    path("sites.csv", SitesCsvOpenDataView.as_view(), name="sites-open-data-csv"),
]

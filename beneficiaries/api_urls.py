"""API endpoints of beneficiaries, mounted under /api/v1/ in the "api" namespace."""

from django.urls import path

from beneficiaries.api import DistributionView

urlpatterns = [
    path("distributions", DistributionView.as_view(), name="distributions"),
]

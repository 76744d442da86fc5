"""API endpoints of prescribers, mounted under /api/v1/ in the "api" namespace."""

from django.urls import path

from prescribers.api import HeldBookletView

urlpatterns = [
    path("booklets/<str:serial>", HeldBookletView.as_view(), name="booklet"),
]

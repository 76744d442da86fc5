"""Version 1 of the API. Each app contributes its endpoints here."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from aptic_catalog.api import ServiceViewSet
from passnum.organisations.api import MemberViewSet, MeView, TokenView

router = SimpleRouter(trailing_slash=False)
router.register("referential/services", ServiceViewSet, basename="referential-service")
router.register("organisation/members", MemberViewSet, basename="organisation-member")

urlpatterns = [
    # First: the redemptions, the API's busiest endpoint.
    path("", include("mediators.api_urls")),
    path("me", MeView.as_view(), name="me"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    *router.urls,
    # Each app's own endpoints (module ``<app>/api_urls.py``, patterns without a namespace).
    path("", include("sponsors.api_urls")),
    path("", include("prescribers.api_urls")),
    path("", include("beneficiaries.api_urls")),
    path("", include("clearing.api_urls")),
]

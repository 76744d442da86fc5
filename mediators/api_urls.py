"""API endpoints of mediators, mounted under /api/v1/ in the "api" namespace."""

urlpatterns = []

"""API endpoints of prescribers, mounted under /api/v1/ in the "api" namespace."""

urlpatterns = []

"""API endpoints of sponsors, mounted under /api/v1/ in the "api" namespace."""

urlpatterns = []

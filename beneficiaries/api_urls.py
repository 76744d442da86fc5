"""API endpoints of beneficiaries, mounted under /api/v1/ in the "api" namespace."""

urlpatterns = []

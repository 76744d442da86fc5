"""API endpoints of sponsors, mounted under /api/v1/ in the "api" namespace."""

from django.urls import path

from sponsors.api import ProgrammeReportView

urlpatterns = [
    path("reports/programmes/<int:id>", ProgrammeReportView.as_view(), name="report-programme"),
]

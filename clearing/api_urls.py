"""API endpoints of clearing, mounted under /api/v1/ in the "api" namespace."""

from django.urls import path

from clearing.api import StatementPdfView, StatementsView, StatementView

urlpatterns = [
    path("statements", StatementsView.as_view(), name="statements"),
    path("statements/<str:number>", StatementView.as_view(), name="statement"),
    path("statements/<str:number>/pdf", StatementPdfView.as_view(), name="statement-pdf"),
]

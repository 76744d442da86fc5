"""Routes of the business grant (/subventions/): shared by the company and the instructing sponsor."""

from django.urls import path

from passnum.organisations.tenancy import tenant_path
from sponsors.grants import views
from sponsors.grants.models import ApplicationDocument, GrantApplication, Instalment

app_name = "grants"

urlpatterns = [
    path("entreprise/inscription/", views.company_register, name="company_register"),
    path("entreprise/compte-bancaire/", views.company_bank, name="company_bank"),
    path("subventions/", views.home, name="home"),
    path("subventions/nouvelle/", views.application_create, name="application_create"),
    path("subventions/dispositif/", views.scheme_edit, name="scheme_edit"),
    path("subventions/bilan/", views.report, name="report"),
    tenant_path("subventions/<int:pk>/", views.application, name="application", model=GrantApplication),
    tenant_path("subventions/<int:pk>/verifier/", views.application_checks, name="checks", model=GrantApplication),
    tenant_path("subventions/<int:pk>/pieces/", views.document_upload, name="document_upload", model=GrantApplication),
    tenant_path(
        "subventions/<int:pk>/lettre-de-demande.pdf",
        views.request_letter,
        name="request_letter",
        model=GrantApplication,
    ),
    tenant_path("subventions/<int:pk>/deposer/", views.submit, name="submit", model=GrantApplication),
    tenant_path("subventions/<int:pk>/repondre/", views.answer, name="answer", model=GrantApplication),
    tenant_path("subventions/<int:pk>/instruire/", views.instruct, name="instruct", model=GrantApplication),
    tenant_path(
        "subventions/<int:pk>/lettre-de-decision.pdf",
        views.decision_letter,
        name="decision_letter",
        model=GrantApplication,
    ),
    tenant_path(
        "subventions/<int:pk>/factures/", views.instalment_create, name="instalment_create", model=GrantApplication
    ),
    tenant_path("subventions/pieces/<int:pk>/", views.document_download, name="document", model=ApplicationDocument),
    tenant_path(
        "subventions/pieces/<int:pk>/retirer/", views.document_delete, name="document_delete", model=ApplicationDocument
    ),
    tenant_path("subventions/versements/<int:pk>/", views.instalment, name="instalment", model=Instalment),
]

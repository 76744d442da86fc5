"""Routes of a site's qualification (site space), included by ``mediators.urls``."""

from django.urls import path

from mediators.qualification import views
from mediators.qualification.models import SupportingDocument
from passnum.organisations.tenancy import tenant_path

urlpatterns = [
    path("site/", views.dashboard, name="dashboard"),
    path("site/inscription/", views.register, name="register"),
    path("site/identite/", views.identity, name="identity"),
    path("site/identite/organisation/", views.organisation_edit, name="organisation_edit"),
    path("site/questionnaire/", views.questionnaire, name="questionnaire"),
    path("site/charte/", views.charter, name="charter"),
    path("site/deposer/", views.submit, name="submit"),
    path("site/pieces/", views.documents, name="documents"),
    tenant_path("site/pieces/<int:pk>/", views.document_download, name="document_download", model=SupportingDocument),
    tenant_path(
        "site/pieces/<int:pk>/supprimer/", views.document_delete, name="document_delete", model=SupportingDocument
    ),
    path("site/compte-bancaire/", views.bank, name="bank"),
]

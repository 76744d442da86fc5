from django.urls import path

from passnum.organisations.tenancy import tenant_path
from sponsors.models import Programme
from sponsors.reporting import views
from sponsors.reporting.models import ExportJob

app_name = "reporting"

urlpatterns = [
    tenant_path(
        "sponsor/programmes/<int:pk>/export/", views.programme_export, name="programme_export", model=Programme
    ),
    tenant_path("sponsor/programmes/<int:pk>/rapport.pdf", views.programme_pdf, name="programme_pdf", model=Programme),
    path("operateur/exports/", views.operator_exports, name="operator_exports"),
    tenant_path("exports/<int:pk>/", views.export_job, name="export_job", model=ExportJob),
    tenant_path("exports/<int:pk>/telecharger/", views.export_download, name="export_download", model=ExportJob),
]

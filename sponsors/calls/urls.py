from django.urls import path

from passnum.organisations.tenancy import tenant_path
from sponsors.calls import views
from sponsors.calls.models import Application, Call, FunderStatement, ReceivedApplication

app_name = "calls"

urlpatterns = [
    # The funder's space
    path("financeur/", views.funder_home, name="funder_home"),
    path("financeur/appels/nouveau/", views.call_new, name="call_new"),
    tenant_path("financeur/appels/<int:pk>/", views.call_detail, name="call", model=Call),
    tenant_path("financeur/appels/<int:pk>/modifier/", views.call_edit, name="call_edit", model=Call),
    tenant_path("financeur/appels/<int:pk>/publier/", views.call_publish, name="call_publish", model=Call),
    tenant_path("financeur/appels/<int:pk>/clore/", views.call_close, name="call_close", model=Call),
    tenant_path(
        "financeur/candidatures/<int:pk>/", views.received_application, name="received", model=ReceivedApplication
    ),
    path("financeur/releves/emettre/", views.statement_issue, name="statement_issue"),
    tenant_path("financeur/releves/<int:pk>/pdf/", views.statement_pdf, name="statement_pdf", model=FunderStatement),
    # The sponsor's side
    path("sponsor/appels/", views.open_calls, name="open_calls"),
    path("sponsor/candidatures/nouvelle/", views.application_new, name="application_new"),
    tenant_path("sponsor/candidatures/<int:pk>/", views.application_detail, name="application", model=Application),
]

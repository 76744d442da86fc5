from django.urls import path

from clearing import views
from clearing.models import Statement
from passnum.organisations.tenancy import tenant_path

app_name = "clearing"

NUMBER = {"number": "number"}

urlpatterns = [
    path("site/releves/", views.statements, name="statements"),
    tenant_path(
        "site/releves/<str:number>/", views.statement_detail, name="statement", model=Statement, lookups=NUMBER
    ),
    tenant_path(
        "site/releves/<str:number>/pdf/", views.statement_pdf, name="statement_pdf", model=Statement, lookups=NUMBER
    ),
]

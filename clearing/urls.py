from django.urls import path

from clearing import views
from clearing.models import Statement, SubscriptionInvoice
from passnum.organisations.tenancy import tenant_path

app_name = "clearing"

NUMBER = {"number": "number"}

urlpatterns = [
    path("site/releves/", views.statements, name="statements"),
    path("site/releves/abonnement/", views.subscription_netting, name="subscription_netting"),
    tenant_path(
        "site/releves/factures/<str:number>/pdf/",
        views.subscription_invoice_pdf,
        name="subscription_invoice_pdf",
        model=SubscriptionInvoice,
        lookups=NUMBER,
    ),
    tenant_path(
        "site/releves/<str:number>/", views.statement_detail, name="statement", model=Statement, lookups=NUMBER
    ),
    tenant_path(
        "site/releves/<str:number>/pdf/", views.statement_pdf, name="statement_pdf", model=Statement, lookups=NUMBER
    ),
]

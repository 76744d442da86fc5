from django.urls import path

from clearing.models import CreditNote
from passnum.organisations.tenancy import tenant_path
from passnum.passes.models import PrintFile
from sponsors import views
from sponsors.models import Order, Programme, SponsorInvoice

app_name = "sponsors"

urlpatterns = [
    path("sponsor/", views.home, name="home"),
    path("sponsor/programmes/nouveau/", views.programme_create, name="programme_create"),
    tenant_path("sponsor/programmes/<int:pk>/", views.programme_detail, name="programme", model=Programme),
    tenant_path("sponsor/programmes/<int:pk>/modifier/", views.programme_edit, name="programme_edit", model=Programme),
    tenant_path("sponsor/commandes/<int:pk>/", views.order_detail, name="order", model=Order),
    tenant_path("sponsor/commandes/<int:pk>/confirmer/", views.order_confirm, name="order_confirm", model=Order),
    tenant_path("sponsor/commandes/<int:pk>/carnets/", views.order_allocate, name="order_allocate", model=Order),
    tenant_path("sponsor/factures/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf", model=SponsorInvoice),
    tenant_path("sponsor/avoirs/<int:pk>/pdf/", views.credit_note_pdf, name="credit_note_pdf", model=CreditNote),
    tenant_path(
        "sponsor/impressions/fichiers/<int:pk>/", views.print_file_download, name="print_file", model=PrintFile
    ),
]

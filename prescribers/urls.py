from django.urls import path

from beneficiaries.models import HandOver
from passnum.organisations.tenancy import tenant_path
from prescribers import views

app_name = "prescribers"

urlpatterns = [
    path("counter/", views.home, name="home"),
    path("counter/remettre/", views.hand_over, name="hand_over"),
    path("counter/perdu/", views.lost, name="lost"),
    path("counter/rendre/", views.return_stock, name="return"),
    tenant_path("counter/remises/<int:pk>/annuler/", views.undo, name="undo", model=HandOver),
]

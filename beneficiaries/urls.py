from django.urls import path

from beneficiaries import views

app_name = "beneficiaries"

urlpatterns = [
    path("verifier/", views.verify, name="verify"),
]

from django.urls import path

from aptic_catalog import views

app_name = "aptic_catalog"

urlpatterns = [
    path("referentiel/", views.referential, name="referential"),
]

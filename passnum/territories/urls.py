from django.urls import path

from passnum.territories import views

app_name = "territories"

urlpatterns = [
    path("communes/chercher", views.search_communes, name="search_communes"),
]

"""Routes of places (site space) and of the public finder, included by ``mediators.urls``."""

from django.urls import path

from mediators.places import views
from mediators.places.models import CatalogueItem, PointOfPresence, Workshop
from passnum.organisations.tenancy import public_path, tenant_path

urlpatterns = [
    path("site/lieux/", views.points, name="points"),
    path("site/lieux/ajouter/", views.point_add, name="point_add"),
    tenant_path("site/lieux/<int:pk>/", views.point_edit, name="point_edit", model=PointOfPresence),
    tenant_path("site/lieux/<int:pk>/fermer/", views.point_close, name="point_close", model=PointOfPresence),
    path("site/catalogue/", views.catalogue, name="catalogue"),
    tenant_path("site/catalogue/<int:pk>/", views.catalogue_edit, name="catalogue_edit", model=CatalogueItem),
    tenant_path(
        "site/catalogue/<int:pk>/retirer/", views.catalogue_remove, name="catalogue_remove", model=CatalogueItem
    ),
    path("site/ateliers/", views.workshops, name="workshops"),
    path("site/ateliers/ajouter/", views.workshop_add, name="workshop_add"),
    tenant_path("site/ateliers/<int:pk>/", views.workshop_edit, name="workshop_edit", model=Workshop),
    tenant_path("site/ateliers/<int:pk>/annuler/", views.workshop_cancel, name="workshop_cancel", model=Workshop),
    # The public finder.
    path("trouver/", views.finder, name="finder"),
    path("trouver/ateliers/", views.public_workshops, name="public_workshops"),
    public_path(
        "trouver/lieux/<int:pk>/",
        views.public_point,
        name="public_point",
        reason="fiche publique d'un lieu qualifié, affichée à tous",
    ),
]

from django.urls import path

from mediators import views
from mediators.models import CatalogueItem, PointOfPresence, Redemption, SupportingDocument, Workshop
from passnum.organisations.tenancy import public_path, tenant_path

app_name = "mediators"

urlpatterns = [
    # The site space.
    path("site/", views.dashboard, name="dashboard"),
    path("site/inscription/", views.register, name="register"),
    path("site/identite/", views.identity, name="identity"),
    path("site/identite/organisation/", views.organisation_edit, name="organisation_edit"),
    path("site/questionnaire/", views.questionnaire, name="questionnaire"),
    path("site/charte/", views.charter, name="charter"),
    path("site/deposer/", views.submit, name="submit"),
    path("site/lieux/", views.points, name="points"),
    path("site/lieux/ajouter/", views.point_add, name="point_add"),
    tenant_path("site/lieux/<int:pk>/", views.point_edit, name="point_edit", model=PointOfPresence),
    tenant_path("site/lieux/<int:pk>/fermer/", views.point_close, name="point_close", model=PointOfPresence),
    path("site/catalogue/", views.catalogue, name="catalogue"),
    tenant_path("site/catalogue/<int:pk>/", views.catalogue_edit, name="catalogue_edit", model=CatalogueItem),
    tenant_path(
        "site/catalogue/<int:pk>/retirer/", views.catalogue_remove, name="catalogue_remove", model=CatalogueItem
    ),
    path("site/pieces/", views.documents, name="documents"),
    tenant_path("site/pieces/<int:pk>/", views.document_download, name="document_download", model=SupportingDocument),
    tenant_path(
        "site/pieces/<int:pk>/supprimer/", views.document_delete, name="document_delete", model=SupportingDocument
    ),
    path("site/compte-bancaire/", views.bank, name="bank"),
    path("site/ateliers/", views.workshops, name="workshops"),
    path("site/ateliers/ajouter/", views.workshop_add, name="workshop_add"),
    tenant_path("site/ateliers/<int:pk>/", views.workshop_edit, name="workshop_edit", model=Workshop),
    tenant_path("site/ateliers/<int:pk>/annuler/", views.workshop_cancel, name="workshop_cancel", model=Workshop),
    # Redeeming passes: the scan page, its service worker, and the URL in a pass's QR code.
    path("site/scan/", views.scan, name="scan"),
    path("site/scan/sw.js", views.scan_service_worker, name="scan_service_worker"),
    public_path(
        "p/<path:code>",
        views.pass_landing,
        name="pass_landing",
        reason="URL du QR code imprimé sur un pass : ce qu'est le pass, s'il est valable et où l'utiliser",
    ),
    # --- redemptions (site space): the site's redemptions, their undo, its refused scans.
    path("site/encaissements/", views.redemptions, name="redemptions"),
    tenant_path(
        "site/encaissements/<uuid:pk>/annuler/", views.redemption_undo, name="redemption_undo", model=Redemption
    ),
    path("site/scans-refuses/", views.refused_scans, name="refused_scans"),
    # --- end of redemptions (site space).
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

from django.urls import path

from passnum.organisations import views
from passnum.organisations.models import ApiToken, Invitation, Membership, Organisation
from passnum.organisations.tenancy import public_path, tenant_path

app_name = "organisations"

urlpatterns = [
    path("organisation/", views.organisation_detail, name="detail"),
    path("organisation/choisir/", views.choose_organisation, name="choose"),
    tenant_path("organisation/choisir/<int:pk>/", views.switch_organisation, name="switch", model=Organisation),
    path("organisation/inviter/", views.invite_member, name="invite"),
    tenant_path(
        "organisation/invitations/<int:pk>/annuler/",
        views.cancel_invitation,
        name="cancel_invitation",
        model=Invitation,
    ),
    tenant_path("organisation/membres/<int:pk>/retirer/", views.remove_member, name="remove_member", model=Membership),
    path("organisation/jetons/", views.api_tokens, name="api_tokens"),
    tenant_path(
        "organisation/jetons/<int:pk>/revoquer/", views.revoke_api_token, name="revoke_api_token", model=ApiToken
    ),
    public_path(
        "invitation/<str:token>/",
        views.invitation,
        name="invitation",
        reason="lien secret envoyé par e-mail à la personne invitée",
    ),
]

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from passnum.errors import DomainError
from passnum.organisations import selectors, services
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import Role
from passnum.organisations.forms import ApiTokenForm, InvitationForm
from passnum.organisations.models import ApiToken, Invitation, Membership
from passnum.organisations.tenancy import get_for_organisation_or_404


@organisation_required
def organisation_detail(request):
    return render(
        request,
        "organisations/detail.html",
        {
            "members": selectors.members_of(request.organisation),
            "invitations": selectors.pending_invitations_of(request.organisation),
        },
    )


@login_required
def choose_organisation(request):
    return render(request, "organisations/choose.html")


@login_required
def switch_organisation(request, pk):
    if request.method != "POST":
        if not any(m.organisation_id == pk for m in request.memberships):
            raise Http404("Vous ne faites pas partie de cette organisation.")
        return redirect("organisations:choose")
    membership = services.switch_organisation(request, pk)
    if membership is None:
        raise Http404("Vous ne faites pas partie de cette organisation.")
    messages.success(request, f"Vous agissez maintenant pour « {membership.organisation} ».")
    return redirect("dashboard")


@organisation_required
def invite_member(request):
    try:
        services.check_is_admin(request.membership)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("organisations:detail")
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite(
                organisation=request.organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                request=request,
            )
        except DomainError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, f"Invitation envoyée à {invitation.email}.")
            return redirect("organisations:detail")
    return render(request, "organisations/invite.html", {"form": form})


@organisation_required
def cancel_invitation(request, pk):
    invitation = get_for_organisation_or_404(Invitation.objects.all(), request.organisation, pk=pk)
    if request.method == "POST":
        try:
            services.check_is_admin(request.membership)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            services.cancel_invitation(invitation=invitation, by=request.user, request=request)
            messages.success(request, f"L'invitation de {invitation.email} est annulée.")
        return redirect("organisations:detail")
    return render(
        request,
        "confirm.html",
        {
            "title": "Annuler l'invitation",
            "question": f"Annuler l'invitation envoyée à {invitation.email} ?",
            "confirm_label": "Oui, annuler l'invitation",
            "back_url": reverse("organisations:detail"),
        },
    )


@organisation_required
def remove_member(request, pk):
    membership = get_for_organisation_or_404(Membership.objects.select_related("user"), request.organisation, pk=pk)
    if request.method == "POST":
        try:
            if membership.user_id != request.user.pk:
                services.check_is_admin(request.membership)
            services.remove_member(membership=membership, by=request.user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{membership.user} ne fait plus partie de l'organisation.")
        return redirect("organisations:detail")
    return render(
        request,
        "confirm.html",
        {
            "title": "Retirer un membre",
            "question": f"Retirer {membership.user} ({membership.user.email}) de « {request.organisation} » ? "
            "Cette personne n'aura plus accès aux données de l'organisation.",
            "confirm_label": "Oui, retirer ce membre",
            "back_url": reverse("organisations:detail"),
        },
    )


def invitation(request, token):
    """The link received by e-mail: shows the invitation and lets the invited person accept it."""
    found = selectors.invitation_by_token(token)
    try:
        services.check_invitation_usable(found)
    except DomainError as error:
        return render(request, "organisations/invitation_invalid.html", {"error": error}, status=error.status)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            membership = services.accept_invitation(token=token, user=request.user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Bienvenue dans « {membership.organisation} ».")
            return redirect("dashboard")
    return render(request, "organisations/invitation.html", {"invitation": found})


@organisation_required
def api_tokens(request):
    """Devices and tools acting for the organisation through the API."""
    new_key = None
    form = ApiTokenForm(request.POST or None)
    is_admin = request.membership is not None and request.membership.role == Role.ADMIN
    if request.method == "POST":
        try:
            services.check_can_create_tokens(request.membership)
        except DomainError as error:
            raise PermissionDenied(error.message) from None
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.create_api_token(
            organisation=request.organisation, user=request.user, name=form.cleaned_data["name"], request=request
        )
        form = ApiTokenForm()
    return render(
        request,
        "organisations/api_tokens.html",
        {
            "tokens": selectors.api_tokens_of(request.organisation),
            "form": form if is_admin else None,
            "new_key": new_key,
            "is_admin": is_admin,
        },
    )


@organisation_required
def revoke_api_token(request, pk):
    token = get_for_organisation_or_404(ApiToken.objects.usable(), request.organisation, pk=pk)
    try:
        services.check_can_revoke_token(token=token, membership=request.membership)
    except DomainError as error:
        raise PermissionDenied(error.message) from None
    if request.method == "POST":
        services.revoke_api_token(token=token, by=request.user, request=request)
        messages.success(request, f"Le jeton « {token.name} » est révoqué : l'appareil n'a plus accès.")
        return redirect("organisations:api_tokens")
    return render(
        request,
        "confirm.html",
        {
            "title": "Révoquer un jeton",
            "question": f"Révoquer le jeton « {token.name} » ? L'appareil qui l'utilise n'aura plus accès à Passnum.",
            "confirm_label": "Oui, révoquer ce jeton",
            "back_url": reverse("organisations:api_tokens"),
        },
    )

from passnum.organisations.models import Invitation, Membership


def active_memberships(user):
    """The memberships a user may act through, with their organisations (one query)."""
    return list(
        Membership.objects.active()
        .filter(user=user)
        .select_related("organisation")
        .order_by("created_at", "pk")
    )


def members_of(organisation):
    return Membership.objects.for_organisation(organisation).filter(is_active=True).select_related("user")


def pending_invitations_of(organisation):
    return Invitation.objects.for_organisation(organisation).pending().select_related("invited_by")


def invitation_by_token(token):
    return Invitation.objects.select_related("organisation").filter(token=token).first()

from django.db.models import Exists, OuterRef

from passnum.organisations.models import ApiToken, Invitation, Membership
from passnum.organisations.tokens import hash_key


def active_memberships(user):
    """The memberships a user may act through, with their organisations (one query)."""
    return list(
        Membership.objects.active().filter(user=user).select_related("organisation").order_by("created_at", "pk")
    )


def members_of(organisation):
    return Membership.objects.for_organisation(organisation).filter(is_active=True).select_related("user")


def pending_invitations_of(organisation):
    return Invitation.objects.for_organisation(organisation).pending().select_related("invited_by")


def invitation_by_token(token):
    return Invitation.objects.select_related("organisation").filter(token=token).first()


def api_tokens_of(organisation):
    return ApiToken.objects.for_organisation(organisation).usable().select_related("user")


def token_for_key(key):
    """The usable token of this key, with its organisation and user, if the user is still a member."""
    # One query: every API request starts here.
    membership = Membership.objects.filter(
        user_id=OuterRef("user_id"), organisation_id=OuterRef("organisation_id"), is_active=True
    )
    return (
        ApiToken.objects.usable()
        .select_related("organisation", "user")
        .filter(Exists(membership), key_hash=hash_key(key), organisation__is_active=True, user__is_active=True)
        .first()
    )

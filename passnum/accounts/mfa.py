from allauth.mfa.models import Authenticator

from passnum.organisations.enums import OrganisationKind, Role


def requires_mfa(user, memberships):
    """Operator staff and anyone holding a finance role must use two-factor authentication."""
    if user.is_staff or user.is_superuser:
        return True
    return any(m.role == Role.FINANCE or m.organisation.kind == OrganisationKind.OPERATOR for m in memberships)


def has_mfa(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

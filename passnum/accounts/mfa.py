import datetime

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from passnum.organisations.enums import OrganisationKind, Role


def requires_mfa(user, memberships):
    """Where the power is, a password is not enough: operator staff, every administrator (they
    invite, hand out tokens, change IBANs) and every finance role must use a second factor."""
    if user.is_staff or user.is_superuser:
        return True
    return any(
        m.role in (Role.ADMIN, Role.FINANCE) or m.organisation.kind == OrganisationKind.OPERATOR for m in memberships
    )


def requires_mfa_at_once(user, memberships):
    """Operator staff and finance roles had it from the start: no grace period for them."""
    if user.is_staff or user.is_superuser:
        return True
    return any(m.role == Role.FINANCE or m.organisation.kind == OrganisationKind.OPERATOR for m in memberships)


def has_mfa(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def grace_deadline(user):
    """The end of this person's grace period, started (once) the first time it is asked."""
    if user.mfa_grace_started_at is None:
        user.mfa_grace_started_at = timezone.now()
        get_user_model().objects.filter(pk=user.pk, mfa_grace_started_at__isnull=True).update(
            mfa_grace_started_at=user.mfa_grace_started_at
        )
    return user.mfa_grace_started_at + datetime.timedelta(days=settings.PASSNUM_MFA_GRACE_DAYS)

"""Use cases of organisations, memberships and invitations."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from passnum import mail
from passnum.audit.services import record, snapshot
from passnum.errors import DomainError
from passnum.organisations.enums import Role
from passnum.organisations.middleware import SESSION_KEY
from passnum.organisations.models import ApiToken, Invitation, Membership, Organisation
from passnum.organisations.tokens import hash_key, new_key
from passnum.organisations.validators import normalise_siret, validate_siret
from passnum.refusals import Refusal


class OrganisationError(DomainError):
    code = "organisation_refused"


def check_siret(siret, *, exclude_pk=None):
    siret = normalise_siret(siret)
    try:
        validate_siret(siret)
    except ValidationError as exc:
        raise OrganisationError(exc.messages[0], code=exc.code, field="siret") from exc
    taken = Organisation.objects.filter(siret=siret).exclude(pk=exclude_pk).exists()
    if taken:
        raise OrganisationError(
            "Une organisation avec ce SIRET est déjà inscrite. Si c'est la vôtre, demandez une "
            "invitation à son administrateur.",
            code="siret_taken",
            field="siret",
        )
    return siret


def check_is_admin(membership):
    if membership is None or membership.role != Role.ADMIN:
        raise OrganisationError(
            "Seul un administrateur de l'organisation peut faire cela.", code="admin_required", status=403
        )


@transaction.atomic
def create_organisation(*, kind, name, siret, created_by=None, admin=None, **fields):
    """Creates an organisation; ``admin`` (a user) becomes its first administrator."""
    siret = check_siret(siret)
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(kind=kind, name=name, siret=siret, **fields)
    except IntegrityError as exc:  # two requests with the same SIRET at once
        raise OrganisationError("Une organisation avec ce SIRET est déjà inscrite.", code="siret_taken") from exc
    if admin is not None:
        Membership.objects.create(user=admin, organisation=organisation, role=Role.ADMIN)
    record(
        "organisation.created",
        actor=created_by or admin,
        organisation=organisation,
        target=organisation,
        after=snapshot(organisation),
    )
    return organisation


IDENTITY_FIELDS = ["name", "siret", "address", "postcode", "city", "email"]


def check_organisation_identity(*, name, email=""):
    name = (name or "").strip()
    if not name:
        raise OrganisationError("Indiquez le nom de l'organisation.", code="name_required", field="name")
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise OrganisationError(
                "Saisissez une adresse e-mail valide, par exemple contact@exemple.fr.",
                code="email_invalid",
                field="email",
            ) from exc
    return name, email


@transaction.atomic
def update_organisation(*, organisation, by, name, siret, address="", postcode="", city="", email="", request=None):
    """Changes an organisation's identity after its sign-up (its administrator does it; the caller
    checks the role). The SIRET is checked as at sign-up and must stay unique; audited with the
    values before and after."""
    name, email = check_organisation_identity(name=name, email=email)
    siret = check_siret(siret, exclude_pk=organisation.pk)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = snapshot(organisation, fields=IDENTITY_FIELDS)
    organisation.name = name
    organisation.siret = siret
    organisation.address = (address or "").strip()
    organisation.postcode = (postcode or "").strip()
    organisation.city = (city or "").strip()
    organisation.email = email
    after = snapshot(organisation, fields=IDENTITY_FIELDS)
    if after == before:
        return organisation
    try:
        with transaction.atomic():
            organisation.save(update_fields=IDENTITY_FIELDS)
    except IntegrityError as exc:  # the same SIRET registered at the same moment
        raise OrganisationError(
            "Une organisation avec ce SIRET est déjà inscrite.", code="siret_taken", field="siret"
        ) from exc
    record(
        "organisation.updated",
        actor=by,
        organisation=organisation,
        target=organisation,
        before=before,
        after=after,
        request=request,
    )
    return organisation


def switch_organisation(request, organisation_id):
    """The user chooses the organisation they act for; only one of their own."""
    membership = next((m for m in request.memberships if m.organisation_id == organisation_id), None)
    if membership is None:
        return None
    request.session[SESSION_KEY] = membership.organisation_id
    return membership


@transaction.atomic
def invite(*, organisation, email, role, invited_by, request=None):
    email = email.strip().lower()
    if Membership.objects.active().filter(organisation=organisation, user__email__iexact=email).exists():
        raise OrganisationError(
            "Cette personne fait déjà partie de l'organisation.", code="already_member", field="email"
        )
    # A new invitation replaces a pending one for the same address.
    Invitation.objects.pending().filter(organisation=organisation, email__iexact=email).update(
        cancelled_at=timezone.now()
    )
    invitation = Invitation.objects.create(organisation=organisation, email=email, role=role, invited_by=invited_by)
    record(
        "invitation.sent",
        actor=invited_by,
        organisation=organisation,
        target=invitation,
        after={"email": email, "role": role},
        request=request,
    )
    link = settings.SITE_URL.rstrip("/") + reverse("organisations:invitation", args=[invitation.token])
    sender = invited_by or "L'opérateur du Pass numérique"  # None: an import by the operator
    mail.send_after_commit(
        subject=f"Invitation à rejoindre {organisation.name} sur Passnum",
        body=(
            f"Bonjour,\n\n{sender} vous invite à rejoindre « {organisation.name} » sur Passnum "
            f"en tant que {invitation.get_role_display().lower()}.\n\n"
            f"Pour accepter, ouvrez ce lien (valable jusqu'au {invitation.expires_at:%d/%m/%Y}) :\n{link}\n\n"
            "Si vous ne connaissez pas cette organisation, ignorez ce message."
        ),
        to=[email],
    )
    return invitation


def check_invitation_usable(invitation):
    if invitation is None:
        raise OrganisationError(
            "Cette invitation n'existe pas. Vérifiez le lien reçu par e-mail ou demandez une nouvelle invitation.",
            code="invitation_unknown",
            status=404,
        )
    if invitation.accepted_at is not None:
        raise OrganisationError("Cette invitation a déjà été acceptée.", code="invitation_used")
    if invitation.cancelled_at is not None:
        raise OrganisationError(
            "Cette invitation a été annulée. Demandez-en une nouvelle.", code="invitation_cancelled"
        )
    if invitation.expires_at <= timezone.now():
        raise OrganisationError("Cette invitation a expiré. Demandez-en une nouvelle.", code="invitation_expired")


@transaction.atomic
def accept_invitation(*, token, user, request=None):
    invitation = Invitation.objects.select_for_update().select_related("organisation").filter(token=token).first()
    check_invitation_usable(invitation)
    if invitation.email.lower() != user.email.lower():
        raise OrganisationError(
            f"Cette invitation a été envoyée à {invitation.email}. Connectez-vous avec cette adresse pour l'accepter.",
            code="invitation_other_email",
        )
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
    )
    if not created:
        membership.role = invitation.role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        "invitation.accepted",
        actor=user,
        organisation=invitation.organisation,
        target=membership,
        after={"role": membership.role},
        request=request,
    )
    if request is not None:
        request.session[SESSION_KEY] = invitation.organisation_id
    return membership


@transaction.atomic
def cancel_invitation(*, invitation, by, request=None):
    if invitation.is_pending:
        invitation.cancelled_at = timezone.now()
        invitation.save(update_fields=["cancelled_at"])
        record(
            "invitation.cancelled",
            actor=by,
            organisation=invitation.organisation,
            target=invitation,
            request=request,
        )


@transaction.atomic
def remove_member(*, membership, by, request=None):
    """Ends a membership. The last administrator cannot leave the organisation headless."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ADMIN:
        other_admins = (
            Membership.objects.select_for_update()
            .filter(organisation_id=membership.organisation_id, role=Role.ADMIN, is_active=True)
            .exclude(pk=membership.pk)
        )
        if not other_admins.exists():
            raise OrganisationError(
                "C'est le dernier administrateur : nommez d'abord un autre administrateur.",
                code="last_admin",
            )
    before = snapshot(membership)
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    record(
        "membership.removed",
        actor=by,
        organisation=membership.organisation,
        target=membership,
        before=before,
        after=snapshot(membership),
        request=request,
    )


class LoginRateLimited(OrganisationError):
    code = Refusal.RATE_LIMITED
    status = 429
    message = "Trop d'échecs de connexion pour ce compte ou cette adresse : réessayez dans quelques minutes."

    def __init__(self):
        super().__init__()
        self.retry_after = 300


def authenticate_for_token(*, request, email: str, password: str):
    """The user of this e-mail and password, counted in the web login's limits (allauth's
    ``login_failed``: per account and per IP, the same counters), failures audited."""
    from allauth.account.adapter import get_adapter

    from passnum.audit.services import record_failed_login

    request.passnum_login_channel = "api"
    try:
        user = get_adapter(request).authenticate(request, email=email, password=password)
    except ValidationError:  # allauth's « too_many_login_attempts »
        record_failed_login(request=request, email=email, channel="api", reason=Refusal.RATE_LIMITED.value)
        raise LoginRateLimited() from None
    if user is None:
        raise OrganisationError("E-mail ou mot de passe incorrect.", code="invalid_credentials", status=401)
    return user


def check_can_use_password_token(user, memberships):
    from passnum.accounts.mfa import has_mfa, requires_mfa

    # A password alone never opens an account that has (or must have) a second factor.
    if requires_mfa(user, memberships) or has_mfa(user):
        raise OrganisationError(
            "Votre compte est protégé par une double authentification : créez vos jetons depuis votre espace.",
            code="mfa_account",
            status=403,
        )


@transaction.atomic
def create_api_token(*, organisation, user, name, request=None):
    """Returns ``(token, key)``: the key is shown once and never stored."""
    key = new_key()
    token = ApiToken.objects.create(
        organisation=organisation,
        user=user,
        name=name.strip()[:100] or "Appareil",
        key_hash=hash_key(key),
        prefix=key[:10],
        expires_at=timezone.now() + datetime.timedelta(days=settings.PASSNUM_TOKEN_LIFETIME_DAYS),
    )
    record("api_token.created", actor=user, organisation=organisation, target=token, request=request)
    return token, key


def check_can_create_tokens(membership):
    """An organisation's tokens act for it: only its administrators hand them out."""
    if membership is None or membership.role != Role.ADMIN:
        raise OrganisationError(
            "Seuls les administrateurs de l'organisation créent des jetons d'accès.", code="admin_only", status=403
        )


def check_can_revoke_token(*, token, membership):
    """A member revokes the tokens they created; an administrator revokes any of the organisation's."""
    if membership is None:
        raise OrganisationError("Vous ne faites pas partie de cette organisation.", code="admin_only", status=403)
    if membership.role != Role.ADMIN and token.user_id != membership.user_id:
        raise OrganisationError(
            "Vous ne pouvez révoquer que vos propres jetons : demandez à un administrateur.",
            code="admin_only",
            status=403,
        )


def revoke_tokens_of(*, user, organisation=None, reason: str, request=None):
    """Ends the live tokens of a person (in one organisation, or all): after a password change
    or the end of a membership, what they handed out must stop working too."""
    tokens = ApiToken.objects.filter(user_id=getattr(user, "pk", user), revoked_at__isnull=True)
    if organisation is not None:
        tokens = tokens.filter(organisation_id=getattr(organisation, "pk", organisation))
    now = timezone.now()
    for token in tokens.select_related("organisation"):
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=now)
        record(
            "api_token.revoked",
            actor=None,
            organisation=token.organisation,
            target=token,
            after={"reason": reason},
            request=request,
        )


@transaction.atomic
def revoke_api_token(*, token, by, request=None):
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record("api_token.revoked", actor=by, organisation=token.organisation, target=token, request=request)

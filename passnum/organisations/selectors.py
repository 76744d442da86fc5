import datetime

from django.utils import timezone

from passnum.organisations.models import ApiToken, Invitation, Membership, Organisation
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


# Every API request starts here: one statement in plain SQL, as little as the request needs
# (the ORM spent more time writing the query than PostgreSQL answering it).
_KEY_LOOKUP_SQL = """
SELECT token.id, token.name, token.prefix, token.created_at, token.last_used_at,
       organisation.id, organisation.kind, organisation.name, organisation.siret,
       account.id, account.email, account.first_name, account.last_name, account.is_staff, account.is_superuser
FROM organisations_apitoken token
JOIN organisations_organisation organisation ON organisation.id = token.organisation_id AND organisation.is_active
JOIN accounts_user account ON account.id = token.user_id AND account.is_active
JOIN organisations_membership membership
     ON membership.user_id = token.user_id AND membership.organisation_id = token.organisation_id
     AND membership.is_active
WHERE token.key_hash = %s AND token.revoked_at IS NULL AND token.expires_at > %s
"""


def _aware(value):
    """A timestamp read by plain SQL: SQLite gives it naive (in UTC), PostgreSQL aware."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, datetime.UTC)


def _loaded(model, **values):
    """An instance as the database holds it, with only these fields; the others load on access."""
    from django.db import connection

    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def token_for_key(key):
    """The usable token of this key, with its organisation and user, if the user is still an
    active member of the active organisation; ``None`` otherwise. The organisation and the user
    are loaded with the fields requests use; the others load on first access."""
    from django.contrib.auth import get_user_model

    from passnum.db import prepared_cursor

    with prepared_cursor() as cursor:  # on every API request
        cursor.execute(_KEY_LOOKUP_SQL, [hash_key(key), timezone.now()])
        row = cursor.fetchone()
    if row is None:
        return None
    (token_id, name, prefix, created_at, last_used_at, organisation_id, kind, organisation_name, siret,
     user_id, email, first_name, last_name, is_staff, is_superuser) = row  # fmt: skip
    organisation = _loaded(
        Organisation, id=organisation_id, kind=kind, name=organisation_name, siret=siret, is_active=True
    )
    user = _loaded(
        get_user_model(), id=user_id, email=email, first_name=first_name, last_name=last_name,
        is_staff=bool(is_staff), is_superuser=bool(is_superuser), is_active=True,
    )  # fmt: skip
    token = _loaded(
        ApiToken, id=token_id, name=name, prefix=prefix, created_at=_aware(created_at),
        last_used_at=_aware(last_used_at), organisation_id=organisation_id, user_id=user_id, revoked_at=None,
    )  # fmt: skip
    token.organisation, token.user = organisation, user
    return token

from django.forms.models import model_to_dict

from passnum.audit.models import AuditLog
from passnum.client_ip import client_ip  # noqa: F401 - the name other apps import from here


def snapshot(instance, fields=None):
    """A JSON-safe picture of a model instance for the before/after columns."""
    data = model_to_dict(instance, fields=fields)
    return {
        key: (value if isinstance(value, (str, int, float, bool, type(None))) else str(value))
        for key, value in data.items()
    }


def _acting_user(actor, request):
    """Who acts: the given user, else the request's signed-in user; never an anonymous user."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        return None
    return actor


def _entry(action, *, actor, ip_address, organisation=None, target=None, before=None, after=None) -> AuditLog:
    return AuditLog(
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        organisation_id=getattr(organisation, "pk", None),
        organisation_name=str(organisation) if organisation is not None else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        before=before,
        after=after,
        ip_address=ip_address,
    )


def record(action, *, actor=None, organisation=None, target=None, before=None, after=None, request=None):
    """Appends an entry to the audit log. Call it inside the transaction of the action."""
    entry = _entry(
        action,
        actor=_acting_user(actor, request),
        ip_address=client_ip(request),
        organisation=organisation,
        target=target,
        before=before,
        after=after,
    )
    entry.save(force_insert=True)
    return entry


def record_download(
    *, request, file_name: str, document=None, organisation=None, kind: str = "", actor=None
) -> AuditLog:
    """A file handed out (a stored PDF, an export, a supporting document, a SEPA file): one entry
    per file, written before its bytes leave — who (the signed-in user, or the user of the API
    token), for which organisation, which file, when (the entry's date) and by which route.
    The action is ``<kind>.downloaded``, ``kind`` defaulting to the document's model."""
    after = {"file": file_name}
    if request is not None:
        after["path"] = request.path
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "organisation"):  # an organisation's API token
            after["api_token"] = token.pk
    return record(
        f"{kind or document._meta.label_lower}.downloaded",
        actor=actor,
        organisation=organisation,
        target=document,
        after=after,
        request=request,
    )


def record_many(action, *, entries, actor=None, request=None):
    """``record`` for many targets of one action at once (one INSERT): ``entries`` are dicts with
    ``organisation``, ``target``, ``before`` and ``after``. Call it inside the transaction of the
    action."""
    actor = _acting_user(actor, request)
    ip_address = client_ip(request)
    return AuditLog.objects.bulk_create(
        [
            _entry(
                action,
                actor=actor,
                ip_address=ip_address,
                organisation=entry.get("organisation"),
                target=entry["target"],
                before=entry.get("before"),
                after=entry.get("after"),
            )
            for entry in entries
        ]
    )


def record_failed_login(*, request, email: str, channel: str, reason: str = "wrong_password"):
    """A failed login (web form or API token request): the address typed, never the password."""
    return AuditLog.objects.create(
        actor=None,
        actor_email="",
        action="login.failed" if channel == "web" else "api_token.request_failed",
        target_type="accounts.user",
        target_repr=(email or "")[:255],
        after={"channel": channel, "reason": reason},
        ip_address=client_ip(request),
    )

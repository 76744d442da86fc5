from django.forms.models import model_to_dict

from passnum.audit.models import AuditLog


def snapshot(instance, fields=None):
    """A JSON-safe picture of a model instance for the before/after columns."""
    data = model_to_dict(instance, fields=fields)
    return {
        key: (value if isinstance(value, (str, int, float, bool, type(None))) else str(value))
        for key, value in data.items()
    }


def client_ip(request):
    # Behind the production proxy, REMOTE_ADDR is set from X-Forwarded-For by the proxy itself.
    return request.META.get("REMOTE_ADDR") if request is not None else None


def record(action, *, actor=None, organisation=None, target=None, before=None, after=None, request=None):
    """Appends an entry to the audit log. Call it inside the transaction of the action."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditLog.objects.create(
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
        ip_address=client_ip(request),
    )

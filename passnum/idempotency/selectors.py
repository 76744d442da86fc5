"""Reads of stored answers."""

from passnum.idempotency.models import StoredAnswer


def stored_answer(*, organisation_id: int, scope: str, key: str) -> tuple[str, int, str] | None:
    """The stored answer of a key: ``(request_hash, status, body)`` or None."""
    return (
        StoredAnswer.objects.filter(organisation_id=organisation_id, scope=scope, key=key)
        .values_list("request_hash", "status_code", "body")
        .first()
    )

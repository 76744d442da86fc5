"""The rules of every ``Idempotency-Key`` API, in one place.

- The first answer (success or refusal) is stored with what the request did, in the same
  transaction, under (organisation, scope, key): ``answer_once``, or ``stored_answer_cte`` for a
  write made of a single statement (the redemption).
- A retry gets that answer again, byte for byte: the body is rendered once (``render``), stored
  as text and sent as stored.
- The same key with another body is refused (``idempotency_key_reused``).
- The key is not looked up first (the first request is the hot path): a retry does its work
  again, fails to insert its key (unique constraint), rolls back and answers the stored
  response. A concurrent duplicate's insert waits on the unique index for the first request's
  commit, then fails the same way.
"""

import json
from collections.abc import Callable
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from passnum.errors import DomainError
from passnum.idempotency.models import StoredAnswer
from passnum.idempotency.selectors import stored_answer
from passnum.refusals import Refusal


class Answer(NamedTuple):
    """An API answer: HTTP status and JSON body (text, as sent). ``subject``: id of what the
    request created; ``stored``: already written by the request's own statement."""

    status: int
    body: str
    subject: str = ""
    stored: bool = False


class IdempotencyRefused(DomainError):
    code = Refusal.IDEMPOTENCY_KEY_REUSED
    status = Refusal.IDEMPOTENCY_KEY_REUSED.status


def render(body) -> str:
    """The one JSON rendering of the answers (as DRF's renderer: compact, UTF-8)."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)


def check_replay(stored: tuple[str, int, str] | None, *, request_hash: str) -> Answer | None:
    """A stored answer for this key: the same request gets it again; another is refused."""
    if stored is None:
        return None
    stored_hash, status, body = stored
    if stored_hash != request_hash:
        raise IdempotencyRefused(
            "Cette clé d'idempotence a déjà servi pour une autre demande : utilisez une nouvelle clé par demande."
        )
    return Answer(status, body)


def replay(*, organisation_id: int, scope: str, key: str, request_hash: str) -> Answer:
    """After a failed insert of the key: the stored answer, or ``conflict`` if the failure came
    from another constraint (a concurrent request changed the same data)."""
    answer = check_replay(
        stored_answer(organisation_id=organisation_id, scope=scope, key=key), request_hash=request_hash
    )
    if answer is None:
        raise DomainError(
            "Une autre demande a modifié les mêmes données au même moment : réessayez.",
            code=Refusal.CONFLICT,
            status=Refusal.CONFLICT.status,
        )
    return answer


def remember(*, organisation_id: int, scope: str, key: str, request_hash: str, answer: Answer, now=None) -> None:
    """Stores the answer of a key, in the caller's transaction (``IntegrityError`` if taken)."""
    StoredAnswer.objects.create(
        organisation_id=organisation_id,
        scope=scope,
        key=key,
        request_hash=request_hash,
        status_code=answer.status,
        body=answer.body,
        subject=answer.subject,
        created_at=now or timezone.now(),
    )


def answer_once(
    *,
    organisation_id: int,
    scope: str,
    key: str,
    request_hash: str,
    apply: Callable[[], Answer],
    on_refusal: Callable[[DomainError], None] | None = None,
    now=None,
) -> Answer:
    """The first answer for the key, whatever the retries or concurrent duplicates.

    ``apply`` does the work in the transaction and returns its ``Answer``; a ``DomainError``
    it raises is answered (and stored) as a refusal, its writes undone (``on_refusal`` then
    writes what a refusal leaves, e.g. a log line, in the same transaction)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():  # a refusal leaves nothing of the work behind
                    answer = apply()
            except DomainError as refusal:
                if refusal.code == Refusal.CONFLICT:
                    raise
                if on_refusal is not None:
                    on_refusal(refusal)
                answer = Answer(refusal.status, render(refusal.as_dict()))
            if not answer.stored:
                remember(
                    organisation_id=organisation_id, scope=scope, key=key, request_hash=request_hash,
                    answer=answer, now=now,
                )  # fmt: skip
    except IntegrityError:
        # Everything above was rolled back; the request that got the key first gave the answer.
        return replay(organisation_id=organisation_id, scope=scope, key=key, request_hash=request_hash)
    return answer


# For a write made of one statement (PostgreSQL): a member of its ``WITH`` clause that stores the
# answer, one row per row of ``source`` (nothing when ``source`` is empty), with the subject
# read from ``source``'s column ``subject``.
_ANSWER_CTE = """{name} AS (
    INSERT INTO passnum_idempotency_answer (organisation_id, scope, key, request_hash, status_code, body, subject,
        created_at)
    SELECT %s, %s, %s, %s, %s, %s, {source}.{subject}::text, %s FROM {source}
)"""


def stored_answer_cte(
    *,
    source: str,
    subject: str,
    organisation_id: int,
    scope: str,
    key: str,
    request_hash: str,
    answer: Answer,
    now,
    name: str = "answer",
) -> tuple[str, list]:
    """``(sql, params)`` of a ``WITH`` member storing ``answer`` once per row of ``source``."""
    sql = _ANSWER_CTE.format(name=name, source=source, subject=subject)
    return sql, [organisation_id, scope, key, request_hash, answer.status, answer.body, now]

"""Redeeming passes at a qualified site: the rules (``check_*``, each refusal with its code), the
exactly-once write, idempotent replays, refused-scan log and undo.
"""

import contextlib
import dataclasses
import datetime
import uuid

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mediators.errors import SiteError
from mediators.qualification import selectors as qualification_selectors
from mediators.redemption import selectors
from mediators.redemption.models import RedeemedPass, Redemption, RefusedScan
from mediators.redemption.settlement import lock_site_settlement
from passnum.audit.services import record
from passnum.db import prepared_cursor
from passnum.errors import DomainError
from passnum.idempotency import services as idempotency
from passnum.passes import codes, validity
from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from passnum.passes.models import PassState
from passnum.refusals import Refusal
from passnum.territories import selectors as territory_selectors
from sponsors import selectors as sponsor_selectors

MAX_CODES = 10

# The idempotency scope of ``POST /api/v1/redemptions`` (and of the scan page's form).
SCOPE = "redemptions"


MAX_ENTRY_LENGTH = 300


CLOCK_SKEW = datetime.timedelta(minutes=5)


class RedemptionRefused(DomainError):
    code = "redemption_refused"
    status = 409


def _refused(refusal, message, entries=None, **details):
    return RedemptionRefused(message, code=refusal, status=refusal.status, codes=list(entries or []), **details)


def _entries(passes):
    return [codes.grouped(p.code) for p in passes]


def printable(text):
    """What was entered, safe to store and show: control characters (NUL…) dropped."""
    return "".join(char for char in str(text) if char.isprintable())


def check_codes(entered):
    """What was scanned or typed → compact codes. Malformed entries are reported before
    mistyped ones, each with the offending entries."""
    if not isinstance(entered, list) or not 1 <= len(entered) <= MAX_CODES:
        raise _refused(Refusal.CODE_MALFORMED, f"Envoyez entre 1 et {MAX_CODES} codes de pass dans « codes ».", [])
    parsed = [(text, codes.parse(text)) for text in entered]
    for error in (codes.MALFORMED, codes.MISTYPED):
        wrong = [printable(text)[:40] for text, result in parsed if result.error == error]
        if wrong:
            raise _refused(error, codes.ERROR_MESSAGES[error], wrong)
    compact = [result.code for _, result in parsed]
    if len(set(compact)) != len(compact):
        raise _refused(Refusal.CODE_MALFORMED, "Le même pass a été scanné deux fois dans cette demande.", compact)
    return compact


def check_redeeming_site(organisation, context=None):
    """The site may redeem (qualified, not suspended, subscription not lapsed). ``context`` (from
    ``selectors.redemption_context``) spares the queries."""
    try:
        if context is None:
            return qualification_selectors.check_site_can_redeem(
                qualification_selectors.site_of(organisation) if organisation else None
            )
        return qualification_selectors.check_site_can_redeem(context.site, subscription=context.subscription)
    except SiteError as error:
        raise _refused(error.code, error.message) from None


def check_redeeming_point(point):
    if point is None:
        raise _refused(
            Refusal.POINT_OF_PRESENCE_UNKNOWN,
            "Ce lieu n'est pas un lieu ouvert de votre structure : choisissez-en un dans la liste.",
            field="point_of_presence",
        )
    return point


def check_redeeming_service(item):
    if item is None:
        raise _refused(
            Refusal.SERVICE_NOT_IN_CATALOGUE,
            "Ce service n'est pas au catalogue de votre structure : choisissez un service de votre catalogue.",
            field="service",
        )
    return item


def check_pass_count(item, compact):
    if len(compact) != item.passes_required:
        needed = item.passes_required
        raise _refused(
            Refusal.WRONG_PASS_COUNT,
            f"Ce service se paie avec {needed} pass d'un même carnet : vous en avez scanné {len(compact)}.",
            compact,
            passes_required=needed,
        )


def check_passes_known(passes, compact):
    known = {p.code for p in passes}
    unknown = [code for code in compact if code not in known]
    # Only now, for codes no pass has: a typo of an old code reads as a typo, not as unknown.
    mistyped = [codes.grouped(code) for code in unknown if pass_selectors.is_typo(code=code)]
    if mistyped:
        raise _refused(codes.MISTYPED, codes.ERROR_MESSAGES[codes.MISTYPED], mistyped)
    if unknown:
        raise _refused(
            Refusal.PASS_UNKNOWN,
            "Ce code ne correspond à aucun Pass numérique : vérifiez qu'il s'agit bien d'un pass du dispositif.",
            [codes.grouped(code) for code in unknown],
        )


def check_same_booklet(passes):
    if len({p.booklet_id for p in passes}) > 1:
        raise _refused(
            Refusal.PASSES_FROM_DIFFERENT_BOOKLETS,
            "Ces pass viennent de carnets différents : un service se paie avec des pass d'un même carnet.",
            _entries(passes),
        )


def _already_redeemed(passes, site):
    redemption = selectors.live_redemption_of([p.pk for p in passes])
    if redemption is None:  # settled before redemptions were recorded: say only that
        return _refused(Refusal.PASS_ALREADY_REDEEMED, "Ce pass a déjà été encaissé.", _entries(passes))
    when = timezone.localtime(redemption.redeemed_at)
    message = f"Ce pass a déjà été encaissé le {when:%d/%m/%Y à %H:%M}"
    details = {"redeemed_at": redemption.redeemed_at.isoformat()}
    if redemption.site_id == site.pk:
        who = redemption.redeemed_by.email if redemption.redeemed_by else "votre structure"
        message += f", par {who} à « {redemption.point_of_presence.name} »"
        details["redeemed_by"] = who
        details["point_of_presence"] = redemption.point_of_presence.name
    else:
        message += " dans une autre structure"
    return _refused(Refusal.PASS_ALREADY_REDEEMED, message + ".", _entries(passes), **details)


def check_passes_redeemable(passes, site, scan_date, *, today=None):
    """Under the lock: every pass is active and not expired (``passes.validity.is_expired``)."""
    today = today or timezone.localdate()
    states = {p.state for p in passes}
    if PassState.CANCELLED in states:
        raise _refused(
            Refusal.PASS_CANCELLED,
            "Ce pass a été annulé (carnet déclaré perdu ou volé) : il ne peut pas être encaissé.",
            _entries(p for p in passes if p.state == PassState.CANCELLED),
        )
    if PassState.REDEEMED in states:
        raise _already_redeemed([p for p in passes if p.state == PassState.REDEEMED], site)
    expired = [
        p
        for p in passes
        if validity.is_expired(state=p.state, expires_on=p.expires_on, scanned_on=scan_date, today=today)
    ]
    if expired:
        raise _refused(
            Refusal.PASS_EXPIRED,
            f"Ce pass a expiré le {expired[0].expires_on:%d/%m/%Y} : il ne peut plus être encaissé.",
            _entries(expired),
        )
    if PassState.CREATED in states:
        raise _refused(
            Refusal.PASS_NOT_ACTIVE,
            "Ce pass n'est pas encore actif : son carnet n'a pas été remis par un prescripteur, ou la commande "
            "du financeur n'est pas payée. Invitez la personne à revoir son prescripteur.",
            _entries(p for p in passes if p.state == PassState.CREATED),
        )


def check_programme_accepts(programme, item, point, passes):
    if not sponsor_selectors.service_is_eligible(programme, item.service):
        raise _refused(
            Refusal.SERVICE_NOT_ELIGIBLE,
            f"Le programme « {programme.name} » ne finance pas ce service : proposez un autre service.",
            _entries(passes),
        )
    if not sponsor_selectors.covers_commune(programme, point.insee_code):
        territory = territory_selectors.territory_label(
            departments=list(programme.departments or []), communes=list(programme.communes or [])
        )
        raise _refused(
            Refusal.SITE_OUT_OF_TERRITORY,
            f"Ce lieu est hors du territoire du programme « {programme.name} » ({territory}) : "
            "le pass n'y est pas valable.",
            _entries(passes),
        )


def check_beneficiary_share(share, amount_cents):
    if share is None:
        return 0
    if isinstance(share, bool) or not isinstance(share, int) or not 0 <= share <= amount_cents:
        raise _refused(
            Refusal.BENEFICIARY_SHARE_INVALID,
            f"Le reste à charge doit être un nombre de centimes entre 0 et {amount_cents}.",
            field="beneficiary_share_cents",
        )
    return share


def check_scanned_at(scanned_at, now, passes):
    """A scan time sent by a device (offline queue): not in the future, not before the hand-out."""
    if scanned_at is None:
        return now
    if scanned_at > now + CLOCK_SKEW:
        raise _refused(
            Refusal.SCANNED_AT_INVALID,
            "L'heure du scan est dans le futur : vérifiez l'heure de l'appareil.",
            field="scanned_at",
        )
    handed_out = pass_selectors.hand_out_time([p.pk for p in passes])
    if handed_out is not None and scanned_at < handed_out:
        raise _refused(
            Refusal.SCANNED_AT_INVALID,
            "L'heure du scan précède la remise du carnet : vérifiez l'heure de l'appareil.",
            field="scanned_at",
        )
    return scanned_at


def check_redemption(organisation, context, passes, *, user, compact, beneficiary_share_cents, scanned_at, now):
    """Every rule after the codes and the passes were read: the unsaved ``Redemption``, or
    ``RedemptionRefused``. ``passes`` come from ``passes_for_redemption`` (locked, or not on the
    optimistic path, whose write then re-checks their state under its own lock)."""
    site = check_redeeming_site(organisation, context)
    point = check_redeeming_point(context.point)
    item = check_redeeming_service(context.item)
    check_pass_count(item, compact)
    check_passes_known(passes, compact)
    check_same_booklet(passes)
    scanned_at = check_scanned_at(scanned_at, now, passes)
    check_passes_redeemable(passes, site, timezone.localdate(scanned_at))
    programme = passes[0].programme
    check_programme_accepts(programme, item, point, passes)
    amount_cents = sum(p.face_value_cents for p in passes)
    share = check_beneficiary_share(beneficiary_share_cents, amount_cents)
    return CheckedRedemption(
        pk=uuid.uuid4(), site=site, point_of_presence=point, service=item.service, programme=programme,
        booklet=passes[0].booklet, pass_count=len(passes), amount_cents=amount_cents, beneficiary_share_cents=share,
        scanned_at=scanned_at, redeemed_at=now, redeemed_by=user,
    )  # fmt: skip


@dataclasses.dataclass(slots=True)
class CheckedRedemption:
    """A redemption every rule accepted, not written yet: plain values (the hot path builds no
    model instance), with the attributes ``selectors.redemption_as_dict`` reads."""

    pk: uuid.UUID
    site: object
    point_of_presence: object
    service: object
    programme: object
    booklet: object
    pass_count: int
    amount_cents: int
    beneficiary_share_cents: int
    scanned_at: datetime.datetime
    redeemed_at: datetime.datetime
    redeemed_by: object
    undone_at: None = None

    site_id = property(lambda self: self.site.pk)
    point_of_presence_id = property(lambda self: self.point_of_presence.pk)
    service_id = property(lambda self: self.service.pk)
    programme_id = property(lambda self: self.programme.pk)
    booklet_id = property(lambda self: self.booklet.pk)
    redeemed_by_id = property(lambda self: self.redeemed_by.pk if self.redeemed_by else None)

    def as_model(self):
        """The ``Redemption`` (unsaved) with these values."""
        return Redemption(
            id=self.pk, site_id=self.site_id, point_of_presence_id=self.point_of_presence_id,
            service_id=self.service_id, programme_id=self.programme_id, booklet_id=self.booklet_id,
            pass_count=self.pass_count, amount_cents=self.amount_cents,
            beneficiary_share_cents=self.beneficiary_share_cents, scanned_at=self.scanned_at,
            redeemed_at=self.redeemed_at, redeemed_by=self.redeemed_by,
        )  # fmt: skip


def redeem(
    organisation,
    *,
    user,
    codes_entered,
    service_code,
    point_id,
    beneficiary_share_cents=None,
    scanned_at=None,
    now=None,
    idempotency_key=None,
):
    """Redeems passes of one booklet for a service at a point of presence; returns the
    ``Redemption`` (saved) or raises ``RedemptionRefused`` having written nothing. Call inside a
    transaction (``redeem_once`` does): the passes are locked until its end.
    ``idempotency_key`` (``(key, request_hash)``) stores the 201 answer under that key with the
    redemption; the answer is then ``redemption.answer``."""
    now = now or timezone.now()
    context = selectors.redemption_context(organisation, point_id, service_code, timezone.localdate(now))
    check_redeeming_site(organisation, context)  # a site that may not redeem is told so first
    compact = check_codes(codes_entered)
    check_redeeming_point(context.point)
    item = check_redeeming_service(context.item)
    check_pass_count(item, compact)
    passes = pass_selectors.passes_for_redemption(compact)  # locked until the end of the transaction
    redemption = check_redemption(
        organisation, context, passes, user=user, compact=compact,
        beneficiary_share_cents=beneficiary_share_cents, scanned_at=scanned_at, now=now,
    )  # fmt: skip
    answer = _answer(redemption, compact)
    key = None
    if idempotency_key is not None:
        key = _stored_answer_values(organisation, idempotency_key, answer, now)
    if _write_redemption(redemption, passes, key) != len(passes):
        raise _refused(Refusal.CONFLICT, "Un pass a changé d'état pendant l'encaissement : réessayez.")
    written = redemption.as_model()
    written._state.adding, written._state.db = False, connection.alias
    written.answer = answer
    return written


def _answer(redemption, compact):
    """The 201 answer of a redemption, rendered once: stored and sent as these bytes."""
    return idempotency.Answer(201, idempotency.render(selectors.redemption_as_dict(redemption, compact)),
                              str(redemption.pk), stored=True)  # fmt: skip


def _stored_answer_values(organisation, idempotency_key, answer, now):
    key, request_hash = idempotency_key
    return {"organisation_id": organisation.pk, "scope": SCOPE, "key": key, "request_hash": request_hash,
            "answer": answer, "now": now}  # fmt: skip


def _redeem_optimistically(organisation, *, user, key, request_hash, codes_entered, service_code, point_id,
                           beneficiary_share_cents, scanned_at, now):  # fmt: skip
    """PostgreSQL's hot path, for a scan that will be redeemed: its answer, or None when a rule
    refuses or a pass changed meanwhile (``redeem_once`` then takes the locked path, which says
    why, in the same words). Two statements, no transaction around them: the reading (site
    context and passes, unlocked), then the single write, which locks the passes and moves them
    only if all are still active (else writes nothing); a key already used fails its insert."""
    try:
        compact = check_codes(codes_entered)
    except RedemptionRefused:
        return None
    context, passes = selectors.redemption_reading(organisation, point_id, service_code, timezone.localdate(now),
                                                   compact)  # fmt: skip
    try:
        redemption = check_redemption(
            organisation, context, passes, user=user, compact=compact,
            beneficiary_share_cents=beneficiary_share_cents, scanned_at=scanned_at, now=now,
        )  # fmt: skip
    except RedemptionRefused:
        return None
    answer = _answer(redemption, compact)
    # Called inside a transaction (a test, a caller's atomic block), a savepoint keeps it usable
    # after a failed insert; in autocommit (the API) the statement is its own transaction.
    own = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with own:
            moved = _write_redemption(
                redemption, passes, _stored_answer_values(organisation, (key, request_hash), answer, now)
            )
            if moved != len(passes) and connection.in_atomic_block:
                # Never keep part of a write in the caller's transaction (in autocommit the
                # statement, all or nothing by its own WHERE, is its own transaction).
                raise _PassesChanged
    except IntegrityError:  # the key was used already (the statement wrote nothing)
        return idempotency.replay(organisation_id=organisation.pk, scope=SCOPE, key=key, request_hash=request_hash)
    except _PassesChanged:
        return None
    return answer if moved == len(passes) else None


class _PassesChanged(Exception):
    """A pass changed between the reading and the write: the savepoint is rolled back."""


# On PostgreSQL, the whole write in one statement (the hot path): the passes locked and moved
# together, only if all are still active, and their journal (the pass instrument's part,
# ``redeemed_passes_cte``); the redemption — only if every pass moved —, its lines and the
# idempotency key's answer (``passnum.idempotency``). Without a transaction around it, the
# statement is its own: all or nothing.
_REDEMPTION_WRITE_SQL = """
WITH {passes},
redemption AS (
    INSERT INTO mediators_redemption (id, site_id, point_of_presence_id, service_id, programme_id, booklet_id,
        pass_count, amount_cents, beneficiary_share_cents, scanned_at, redeemed_at, redeemed_by_id)
    SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
    WHERE (SELECT count(*) FROM moved) = %s
    RETURNING id
), line AS (
    INSERT INTO mediators_redeemedpass (redemption_id, pass_id, face_value_cents, is_live)
    SELECT redemption.id, line.pass_id, line.face_value_cents, true
    FROM redemption, unnest(%s::bigint[], %s::integer[]) AS line(pass_id, face_value_cents)
){answer}
SELECT count(*) FROM moved
"""


def _write_redemption(redemption, passes, key=None):
    """Writes a ``CheckedRedemption`` with its passes (and the answer under ``key``, values of
    ``_stored_answer_values``); returns how many passes moved: all of them, or none (a pass no
    longer active: nothing written on PostgreSQL; ``BookletRefused`` on the portable path)."""
    r = redemption
    details = {"redemption": str(r.pk)}
    if not pass_services.single_statement_writes():
        pass_services.mark_redeemed(passes, actor=r.redeemed_by, at=r.redeemed_at, details=details)
        r.as_model().save(force_insert=True)
        RedeemedPass.objects.bulk_create(
            [RedeemedPass(redemption_id=r.pk, pass_ref_id=p.pk, face_value_cents=p.face_value_cents) for p in passes]
        )
        if key is not None:
            idempotency.remember(**key)
        return len(passes)
    passes_sql, params = pass_services.redeemed_passes_cte(
        [p.pk for p in passes], actor=r.redeemed_by, at=r.redeemed_at, details=details
    )
    params += [r.pk, r.site_id, r.point_of_presence_id, r.service_id, r.programme_id, r.booklet_id, r.pass_count,
               r.amount_cents, r.beneficiary_share_cents, r.scanned_at, r.redeemed_at, r.redeemed_by_id, len(passes),
               [p.pk for p in passes], [p.face_value_cents for p in passes]]  # fmt: skip
    answer_sql = ""
    if key is not None:
        answer_sql, answer_params = idempotency.stored_answer_cte(source="redemption", subject="id", **key)
        answer_sql, params = ", " + answer_sql, params + answer_params
    sql = _REDEMPTION_WRITE_SQL.format(passes=passes_sql, answer=answer_sql)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)  # a key already used raises IntegrityError (unique constraint)
        moved = cursor.fetchone()[0]
    return moved


def check_pass_at_site(organisation, entered):
    """A pass tested by a site without redeeming it: ``(pass, refusal or None)``. An unreadable or
    unknown code raises ``RedemptionRefused``; the service and the place are not known yet."""
    try:
        compact = check_codes([entered])
    except RedemptionRefused as refusal:
        refusal.status = 404  # the path names no pass
        raise
    passes = pass_selectors.passes_for_redemption(compact, for_update=False)
    check_passes_known(passes, compact)
    try:
        site = check_redeeming_site(organisation)
        check_passes_redeemable(passes, site, timezone.localdate())
    except RedemptionRefused as refusal:
        return passes[0], refusal
    return passes[0], None


def _log_refusal(organisation, user, refusal, *, entered, point_id, service_code, scanned_at, now):
    """Who, where, which code, why: the place and the service only when they are the site's."""
    context = selectors.redemption_context(organisation, point_id, service_code, timezone.localdate(now))
    point, item = context.point, context.item
    RefusedScan.objects.create(
        organisation=organisation,
        user=user,
        point_of_presence_id=point.pk if point else None,
        service_id=item.service.pk if item else None,
        entered=printable(", ".join(map(str, entered)) if isinstance(entered, list) else entered)[:200],
        reason=refusal.code,
        message=refusal.message[:300],
        at=now,
        scanned_at=scanned_at,
    )


def redeem_once(
    organisation,
    *,
    key,
    request_hash,
    user,
    codes_entered,
    service_code,
    point_id,
    beneficiary_share_cents=None,
    scanned_at=None,
):
    """``redeem`` under an idempotency key (``passnum.idempotency``): ``(status, body)``, the
    first answer for the key — 201 and the redemption, or the refusal — whatever the retries or
    concurrent duplicates; ``body`` is the JSON text, the same bytes for every retry.

    On PostgreSQL a scan that will be redeemed takes the optimistic path (two statements, see
    ``_redeem_optimistically``). A refusal, a pass that changed meanwhile, a retry and the
    embedded default take the locked path: a transaction that locks the passes, checks every
    rule, and writes the redemption or the refused scan with the key's answer. A key already
    used makes that insert fail (a concurrent duplicate's insert waits for the first one's
    commit): everything is rolled back and the stored answer is sent."""
    now = timezone.now()
    scan = {"user": user, "codes_entered": codes_entered, "service_code": service_code, "point_id": point_id,
            "beneficiary_share_cents": beneficiary_share_cents, "scanned_at": scanned_at, "now": now}  # fmt: skip
    try:
        if pass_services.single_statement_writes():
            answer = _redeem_optimistically(organisation, key=key, request_hash=request_hash, **scan)
            if answer is not None:
                return answer.status, answer.body

        def log(refusal):
            _log_refusal(organisation, user, refusal, entered=codes_entered, point_id=point_id,
                         service_code=service_code, scanned_at=scanned_at, now=now)  # fmt: skip

        answer = idempotency.answer_once(
            organisation_id=organisation.pk, scope=SCOPE, key=key, request_hash=request_hash, now=now,
            apply=lambda: redeem(organisation, idempotency_key=(key, request_hash), **scan).answer, on_refusal=log,
        )  # fmt: skip
    except DomainError as refusal:  # the key reused with another body, or a conflict: not stored
        return refusal.status, idempotency.render(refusal.as_dict())
    return answer.status, answer.body


@transaction.atomic
def undo_redemption(organisation, redemption_id, *, user, now=None):
    """A mistaken redemption undone within 24 hours, never once on a statement: its passes are
    active again (journal ``undone``). Another organisation's redemption is not found (404)."""
    from passnum.organisations.tenancy import get_for_organisation_or_404

    now = now or timezone.now()
    lock_site_settlement(organisation_id=organisation.pk)  # a monthly close cannot settle it meanwhile
    redemption = get_for_organisation_or_404(Redemption.objects.select_for_update(), organisation, pk=redemption_id)
    if redemption.undone_at is not None:
        raise _refused(Refusal.REDEMPTION_ALREADY_UNDONE, "Cet encaissement est déjà annulé.")
    if redemption.settled_at is not None:
        raise _refused(
            Refusal.REDEMPTION_SETTLED,
            "Cet encaissement figure déjà sur un relevé de remboursement : il ne peut plus être annulé.",
        )
    if now - redemption.redeemed_at > selectors.UNDO_WINDOW:
        raise _refused(
            Refusal.UNDO_WINDOW_OVER,
            "Un encaissement ne peut être annulé que dans les 24 heures : contactez l'opérateur.",
        )
    pass_ids = list(RedeemedPass.objects.filter(redemption=redemption).values_list("pass_ref_id", flat=True))
    RedeemedPass.objects.filter(redemption=redemption).update(is_live=False)
    pass_services.mark_unredeemed(pass_ids, actor=user, details={"redemption": str(redemption.pk)})
    redemption.undone_at, redemption.undone_by = now, user
    redemption.save(update_fields=["undone_at", "undone_by"])
    record("mediators.redemption.undone", actor=user, organisation=organisation, target=redemption)
    return redemption


# --- Totals for the sponsors' reports (nightly; see passnum.rollup) ----------------------------
# Set-based SQL, outside the redemption's write path: a redemption writes nothing more for them.

_ROLL_UP_SQL = [
    """INSERT INTO mediators_redemptiondaytotal AS t (programme_id, day, count, passes, cents)
    SELECT r.programme_id, (r.redeemed_at AT TIME ZONE %(tz)s)::date, count(*), sum(r.pass_count), sum(r.amount_cents)
    FROM mediators_redemption r
    WHERE r.undone_at IS NULL AND r.redeemed_at < %(before)s
      AND (%(since)s::timestamptz IS NULL OR r.redeemed_at >= %(since)s::timestamptz)
    GROUP BY 1, 2
    ON CONFLICT (programme_id, day) DO UPDATE
    SET count = t.count + EXCLUDED.count, passes = t.passes + EXCLUDED.passes, cents = t.cents + EXCLUDED.cents""",
    """INSERT INTO mediators_redemptionplacemonthtotal AS t (programme_id, month, site_id, point_of_presence_id,
                                                         count, passes, cents)
    SELECT r.programme_id, date_trunc('month', r.redeemed_at AT TIME ZONE %(tz)s)::date, r.site_id,
           r.point_of_presence_id, count(*), sum(r.pass_count), sum(r.amount_cents)
    FROM mediators_redemption r
    WHERE r.undone_at IS NULL AND r.redeemed_at < %(before)s
      AND (%(since)s::timestamptz IS NULL OR r.redeemed_at >= %(since)s::timestamptz)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (programme_id, month, site_id, point_of_presence_id) DO UPDATE
    SET count = t.count + EXCLUDED.count, passes = t.passes + EXCLUDED.passes, cents = t.cents + EXCLUDED.cents""",
    """INSERT INTO mediators_redemptionservicemonthtotal AS t (programme_id, month, service_id, count, passes, cents)
    SELECT r.programme_id, date_trunc('month', r.redeemed_at AT TIME ZONE %(tz)s)::date, r.service_id,
           count(*), sum(r.pass_count), sum(r.amount_cents)
    FROM mediators_redemption r
    WHERE r.undone_at IS NULL AND r.redeemed_at < %(before)s
      AND (%(since)s::timestamptz IS NULL OR r.redeemed_at >= %(since)s::timestamptz)
    GROUP BY 1, 2, 3
    ON CONFLICT (programme_id, month, service_id) DO UPDATE
    SET count = t.count + EXCLUDED.count, passes = t.passes + EXCLUDED.passes, cents = t.cents + EXCLUDED.cents""",
]


def roll_up_totals(*, now: datetime.datetime | None = None, rebuild: bool = False) -> dict:
    """Adds the redemptions of the days closed since the last run to the reports' totals
    (``RedemptionDayTotal``, ``Redemption*MonthTotal``); idempotent. A day is closed once no undo
    can reach it (24 hours after its end); ``redeemed_at`` is the server's time, so a late
    offline scan lands on the day it is received, never on a closed day."""
    from mediators.redemption.models import (
        RedemptionDayTotal,
        RedemptionPlaceMonthTotal,
        RedemptionRollup,
        RedemptionServiceMonthTotal,
    )
    from passnum import rollup

    return rollup.roll_up(
        mark_model=RedemptionRollup,
        total_models=[RedemptionDayTotal, RedemptionPlaceMonthTotal, RedemptionServiceMonthTotal],
        statements=_ROLL_UP_SQL,
        undo_window=selectors.UNDO_WINDOW,
        now=now,
        rebuild=rebuild,
    )

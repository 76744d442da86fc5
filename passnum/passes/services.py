"""Use cases of the pass instrument. The only code that writes booklets, passes and their journal.

Every function runs in one transaction and keeps ``Pass.state`` in step with ``PassJournal``.
Other apps (sponsors, prescribers, mediators, clearing) call these functions.
"""

import calendar
import json
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from passnum.audit.services import record, record_download
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.outbox import submit_on_commit
from passnum.passes import codes, selectors
from passnum.passes.models import Booklet, JournalKind, Pass, PassJournal, PassState, PrintRun, StockMovement
from passnum.refusals import Refusal

MAX_ALLOCATION = 5000
BATCH_SIZE = 2000


class OrderNotPaid(DomainError):
    code = Refusal.ORDER_NOT_PAID
    message = "La commande n'est pas encore payée : les pass ne peuvent pas être activés ni imprimés."


class AllocationRefused(DomainError):
    code = "allocation_refused"


class PrintRunRefused(DomainError):
    code = "print_run_refused"


class BookletRefused(DomainError):
    code = Refusal.BOOKLET_REFUSED


# --- Validators -----------------------------------------------------------------------------


def check_order_paid(order):
    if order.status != "paid":
        raise OrderNotPaid()


def check_prescriber(organisation):
    if organisation is None or organisation.kind != OrganisationKind.PRESCRIBER or not organisation.is_active:
        raise AllocationRefused("Choisissez un prescripteur inscrit et actif.", field="prescriber")


def add_months(day, months):
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def expiry_date(programme):
    """Last day a pass may be redeemed: validity end + grace period."""
    return add_months(programme.valid_until, programme.grace_months) + timedelta(days=programme.grace_days)


# --- Journal --------------------------------------------------------------------------------


def _journal(pass_ids, kind, *, actor=None, details=None, at=None):
    at = at or timezone.now()
    PassJournal.objects.bulk_create(
        [PassJournal(pass_ref_id=pk, kind=kind, at=at, actor=actor, details=details or {}) for pk in pass_ids],
        batch_size=BATCH_SIZE,
    )


def transition(passes, kind, new_state, *, from_states, actor=None, details=None, at=None):
    """Moves ``passes`` (a queryset) from one of ``from_states`` to ``new_state`` and journals it
    (at ``at``, now by default).

    Returns the ids of the passes moved. Locks them first, so two transitions never cross.
    """
    ids = list(passes.filter(state__in=from_states).select_for_update().values_list("pk", flat=True))
    if ids:
        Pass.objects.filter(pk__in=ids).update(state=new_state)
        _journal(ids, kind, actor=actor, details=details, at=at)
    return ids


# --- Generation -----------------------------------------------------------------------------


def _serial(programme, number):
    return f"{programme.prefix}{number:06d}"


def generate_booklets(order, *, actor=None):
    """Creates the order's booklets and passes (state ``created``) with their journal, in bulk.

    Called inside the transaction that confirms the order. Codes come from ``secrets``; in the
    astronomically unlikely event of a collision, the whole generation is retried.
    """
    from sponsors.models import Programme

    programme = Programme.objects.select_for_update().get(pk=order.programme_id)
    if Booklet.objects.filter(order=order).exists():
        raise BookletRefused("Les carnets de cette commande existent déjà.")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _generate(order, programme, actor)
        except IntegrityError:
            continue
    raise BookletRefused("La génération des codes a échoué : réessayez.")


def new_codes(*, count: int) -> list[str]:
    """``count`` new codes (Damm check), none a single typo away from a code issued with the old
    mod-37 check: such a code would be read as that typo (``codes.parse``), and the typo of an
    old code must never find a new pass. Without old codes (a new installation), one query."""
    fresh = [codes.generate() for _ in range(count)]
    if not selectors.any_legacy_code():
        return fresh
    while True:
        near = {neighbour: code for code in fresh for neighbour in codes.legacy_neighbours(code)}
        clashing = {near[neighbour] for neighbour in selectors.legacy_codes_among(codes=near)}
        if not clashing:
            return fresh
        fresh = [code if code not in clashing else codes.generate() for code in fresh]


def _generate(order, programme, actor):
    start = (Booklet.objects.filter(programme=programme).aggregate(m=Max("number"))["m"] or 0) + 1
    booklets = Booklet.objects.bulk_create(
        [
            Booklet(programme=programme, order=order, number=n, serial=_serial(programme, n))
            for n in range(start, start + order.booklet_count)
        ],
        batch_size=BATCH_SIZE,
    )
    expires_on = expiry_date(programme)
    fresh = iter(new_codes(count=len(booklets) * programme.passes_per_booklet))
    passes = Pass.objects.bulk_create(
        [
            Pass(
                booklet_id=booklet.pk,
                programme_id=programme.pk,
                position=position,
                code=next(fresh),
                face_value_cents=programme.face_value_cents,
                valid_until=programme.valid_until,
                expires_on=expires_on,
            )
            for booklet in booklets
            for position in range(1, programme.passes_per_booklet + 1)
        ],
        batch_size=BATCH_SIZE,
    )
    _journal([p.pk for p in passes], JournalKind.CREATED, actor=actor, details={"order": order.pk})
    return booklets


# --- Life of a booklet ----------------------------------------------------------------------


def activate_booklet_passes(booklet, *, actor=None, at: datetime | None = None):
    """The booklet was handed out and its order is paid: its passes become redeemable. ``at``
    (default now) dates the activation: only the demo and the tests pass it, to tell a past."""
    check_order_paid(booklet.order)
    return transition(
        booklet.passes.all(),
        JournalKind.ACTIVATED,
        PassState.ACTIVE,
        from_states=[PassState.CREATED],
        actor=actor,
        at=at,
    )


@transaction.atomic
def hand_out_booklet(booklet, *, actor=None, details=None, at: datetime | None = None):
    """A prescriber hands the booklet to a person: journal ``handed_out``, then activation (both
    at ``at``, default now: only the demo and the tests pass it)."""
    booklet = Booklet.objects.select_for_update().select_related("order").get(pk=booklet.pk)
    check_order_paid(booklet.order)
    if booklet.state != Booklet.State.ALLOCATED:
        raise BookletRefused("Ce carnet n'est pas en stock chez un prescripteur : il ne peut pas être remis.")
    booklet.state = Booklet.State.HANDED_OUT
    booklet.save(update_fields=["state"])
    ids = list(booklet.passes.values_list("pk", flat=True))
    _journal(ids, JournalKind.HANDED_OUT, actor=actor, details=details or {}, at=at)
    activate_booklet_passes(booklet, actor=actor, at=at)
    return booklet


@transaction.atomic
def cancel_booklet(booklet, *, actor=None, reason=""):
    """A lost or voided booklet: its unused passes are cancelled (never the redeemed ones)."""
    booklet = Booklet.objects.select_for_update().get(pk=booklet.pk)
    if booklet.state == Booklet.State.CANCELLED:
        raise BookletRefused("Ce carnet est déjà annulé.")
    booklet.state = Booklet.State.CANCELLED
    booklet.save(update_fields=["state"])
    ids = transition(
        booklet.passes.all(),
        JournalKind.CANCELLED,
        PassState.CANCELLED,
        from_states=[PassState.CREATED, PassState.ACTIVE],
        actor=actor,
        details={"reason": reason},
    )
    record("passes.booklet.cancelled", actor=actor, organisation=booklet.programme.sponsor, target=booklet)
    return ids


# --- Redemption at a site (called by mediators.redemption.services) -------------------------------------


def redeemed_passes_cte(pass_ids, *, actor=None, at=None, details=None):
    """For a caller's single statement on PostgreSQL (the redemption's hot path): members of a
    ``WITH`` clause, ``moved`` (the passes of ``pass_ids`` set to ``redeemed``, returning their
    ids) and ``journal`` (their ``redeemed`` entries), with their parameters.

    All or none: the passes are first locked in id order (``locked``: two redemptions sharing
    passes queue up without deadlock; a pass changed by a transaction that committed meanwhile
    is read as it is now), and move only if every one of them is active then. The update takes
    its rows from the lock, not from the statement's snapshot, so that it moves the row
    versions it checked. The caller checks that ``moved`` counts every pass."""
    sql = """locked AS (
    SELECT id, state FROM passes_pass WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE
), moved AS (
    UPDATE passes_pass SET state = %s FROM locked
    WHERE passes_pass.id = locked.id AND (SELECT count(*) FROM locked WHERE state = %s) = %s
    RETURNING passes_pass.id
), journal AS (
    INSERT INTO passes_passjournal (pass_id, kind, at, actor_id, details)
    SELECT id, %s, %s, %s, %s::jsonb FROM moved
)"""
    ids = list(pass_ids)
    params = [ids, PassState.REDEEMED, PassState.ACTIVE, len(ids), JournalKind.REDEEMED, at or timezone.now(),
              actor.pk if actor else None, json.dumps(details or {})]  # fmt: skip
    return sql, params


def single_statement_writes():
    """Whether the hot paths may write with one data-modifying CTE (PostgreSQL only)."""
    return connection.vendor == "postgresql"


def mark_redeemed(locked_passes, *, actor=None, at=None, details=None):
    """Passes locked by ``selectors.passes_for_redemption`` and checked active become
    ``redeemed``, journaled, with ordinary statements (the embedded default; PostgreSQL's hot path
    writes the same through ``redeemed_passes_cte``). The update repeats the state condition: if
    any pass was not active any more, ``BookletRefused`` is raised before the journal is written
    and the caller's transaction must roll back (never a partial redemption)."""
    ids = [p.pk for p in locked_passes]
    if Pass.objects.filter(pk__in=ids, state=PassState.ACTIVE).update(state=PassState.REDEEMED) != len(ids):
        raise BookletRefused("Un pass a changé d'état pendant l'encaissement : réessayez.", code=Refusal.CONFLICT)
    _journal(ids, JournalKind.REDEEMED, actor=actor, details=details, at=at or timezone.now())
    return ids


def mark_unredeemed(pass_ids, *, actor=None, details=None):
    """A redemption undone: its passes are active again, journaled ``undone``."""
    moved = transition(
        Pass.objects.filter(pk__in=pass_ids),
        JournalKind.UNDONE,
        PassState.ACTIVE,
        from_states=[PassState.REDEEMED],
        actor=actor,
        details=details,
    )
    if len(moved) != len(pass_ids):
        raise BookletRefused("Un pass de cet encaissement n'est plus encaissé : rien n'a été annulé.", status=409)
    return moved


# --- Allocation to prescribers --------------------------------------------------------------


def check_allocation_count(count):
    if count is None or count < 1 or count > MAX_ALLOCATION:
        raise AllocationRefused(f"Indiquez un nombre de carnets entre 1 et {MAX_ALLOCATION}.", field="count")


def _booklets_to_allocate(order, *, first_serial, last_serial, count):
    stock = Booklet.objects.filter(order=order).select_for_update().order_by("serial")
    if first_serial or last_serial:
        first_serial, last_serial = (first_serial or "").strip().upper(), (last_serial or "").strip().upper()
        if not first_serial or not last_serial:
            raise AllocationRefused("Indiquez le premier et le dernier numéro de la série.", field="first_serial")
        if first_serial > last_serial:
            raise AllocationRefused("Le premier numéro doit précéder le dernier.", field="first_serial")
        for serial, field in ((first_serial, "first_serial"), (last_serial, "last_serial")):
            if not stock.filter(serial=serial).exists():
                raise AllocationRefused(f"Le carnet {serial} ne fait pas partie de cette commande.", field=field)
        booklets = list(stock.filter(serial__gte=first_serial, serial__lte=last_serial))
        check_allocation_count(len(booklets))
        taken = [b.serial for b in booklets if b.state != Booklet.State.CREATED]
        if taken:
            raise AllocationRefused(
                f"{len(taken)} carnet(s) de cette série sont déjà répartis ou annulés, dont {taken[0]}.",
                field="first_serial",
            )
        return booklets
    check_allocation_count(count)
    booklets = list(stock.filter(state=Booklet.State.CREATED)[:count])
    if len(booklets) < count:
        raise AllocationRefused(
            f"Il ne reste que {len(booklets)} carnet(s) à répartir dans cette commande.", field="count"
        )
    return booklets


@transaction.atomic
def allocate_booklets(
    order,
    prescriber,
    *,
    first_serial=None,
    last_serial=None,
    count=None,
    actor=None,
    request=None,
    at: datetime | None = None,
):
    """Sends booklets of a paid order to a prescriber's stock, by serial range or by count. ``at``
    (default now) dates the stock movement: only the demo and the tests pass it."""
    check_order_paid(order)
    check_prescriber(prescriber)
    booklets = _booklets_to_allocate(order, first_serial=first_serial, last_serial=last_serial, count=count)
    now = at or timezone.now()
    batch = secrets.token_hex(8)
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                booklet=b, from_organisation=None, to_organisation=prescriber, batch=batch, at=now, actor=actor
            )
            for b in booklets
        ],
        batch_size=BATCH_SIZE,
    )
    Booklet.objects.filter(pk__in=[b.pk for b in booklets]).update(state=Booklet.State.ALLOCATED, holder=prescriber)
    record(
        "passes.booklets.allocated",
        actor=actor,
        request=request,
        organisation=order.programme.sponsor,
        target=order,
        after={
            "prescriber": prescriber.pk,
            "count": len(booklets),
            "first": booklets[0].serial,
            "last": booklets[-1].serial,
            "batch": batch,
        },
    )
    return booklets


# --- Print runs -----------------------------------------------------------------------------


def check_can_print(order):
    if order.status != "paid":
        raise PrintRunRefused("La commande n'est pas payée : l'impression n'est possible qu'après le paiement.")


@transaction.atomic
def request_proof(order, *, actor=None):
    """The proof (BAT): one booklet printed for approval before the run."""
    check_can_print(order)
    run, created = PrintRun.objects.get_or_create(
        order=order,
        kind=PrintRun.Kind.PROOF,
        defaults={"total_booklets": 1, "chunk_size": 1, "requested_by": actor},
    )
    if created:
        record("passes.proof.requested", actor=actor, organisation=order.programme.sponsor, target=run)
    _dispatch(run)
    return run


@transaction.atomic
def approve_proof(run, *, actor=None):
    run = PrintRun.objects.select_for_update().get(pk=run.pk)
    if run.kind != PrintRun.Kind.PROOF or run.status != PrintRun.Status.DONE:
        raise PrintRunRefused("Le bon à tirer n'est pas encore prêt : il ne peut pas être validé.")
    if run.approved_at is None:
        run.approved_at = timezone.now()
        run.approved_by = actor
        run.save(update_fields=["approved_at", "approved_by"])
        record("passes.proof.approved", actor=actor, organisation=run.order.programme.sponsor, target=run)
    return run


def check_proof_approved(order):
    if not PrintRun.objects.filter(order=order, kind=PrintRun.Kind.PROOF, approved_at__isnull=False).exists():
        raise PrintRunRefused("Le bon à tirer (BAT) doit être généré et validé avant le tirage complet.")


@transaction.atomic
def launch_print_run(order, *, actor=None, chunk_size=50):
    """The full print run of a paid order, after its proof. Launching it again resumes it."""
    check_can_print(order)
    check_proof_approved(order)
    run, created = PrintRun.objects.get_or_create(
        order=order,
        kind=PrintRun.Kind.FULL,
        defaults={"total_booklets": order.booklet_count, "chunk_size": chunk_size, "requested_by": actor},
    )
    if created:
        record("passes.print_run.launched", actor=actor, organisation=order.programme.sponsor, target=run)
    if run.status != PrintRun.Status.DONE:
        _dispatch(run)
    return run


def _dispatch(run):
    from passnum.passes.tasks import run_print

    if run.status == PrintRun.Status.DONE:
        return
    submit_on_commit(run_print, run.pk)


def print_order_inline(order, *, chunk_size=50, actor=None):
    """The whole print job of a paid order in this process (shell command, demo): the proof if
    there is none (approved by ``actor``), then every chunk not printed yet. Returns the full run."""
    from passnum.passes.tasks import run_print

    with transaction.atomic():
        check_can_print(order)
        proof, _ = PrintRun.objects.get_or_create(
            order=order,
            kind=PrintRun.Kind.PROOF,
            defaults={"total_booklets": 1, "chunk_size": 1, "requested_by": actor},
        )
    run_print.apply(args=[proof.pk], kwargs={"inline": True}, throw=True)
    approve_proof(proof, actor=actor)
    with transaction.atomic():
        run, _ = PrintRun.objects.get_or_create(
            order=order,
            kind=PrintRun.Kind.FULL,
            defaults={"total_booklets": order.booklet_count, "chunk_size": chunk_size, "requested_by": actor},
        )
    run_print.apply(args=[run.pk], kwargs={"inline": True}, throw=True)
    run.refresh_from_db()
    return run


@transaction.atomic
def undo_hand_out(booklet, *, actor=None, details=None):
    """A hand-over made by mistake: the booklet goes back to the prescriber's stock and its passes
    back to ``created`` (journal ``handout_undo``). Refused once a pass of it was used."""
    booklet = Booklet.objects.select_for_update().get(pk=booklet.pk)
    if booklet.state != Booklet.State.HANDED_OUT:
        raise BookletRefused("Ce carnet n'est pas remis : il n'y a pas de remise à annuler.")
    states = set(booklet.passes.select_for_update().values_list("state", flat=True))
    if states - {PassState.CREATED, PassState.ACTIVE}:
        raise BookletRefused(
            "Un pass de ce carnet a déjà été utilisé : la remise ne peut plus être annulée.",
            code=Refusal.BOOKLET_PASS_USED,
        )
    ids = transition(
        booklet.passes.all(),
        JournalKind.HAND_OUT_UNDONE,
        PassState.CREATED,
        from_states=[PassState.ACTIVE],
        actor=actor,
        details=details or {},
    )
    booklet.state = Booklet.State.ALLOCATED
    booklet.save(update_fields=["state"])
    return ids


# --- Returns to the operator ----------------------------------------------------------------
#
# A prescriber sends back booklets it never handed out (end of a programme, no more counter):
# they go back to the operator's stock (state ``created``, no holder), from where the sponsor can
# allocate them again. Their passes never left ``created``: no journal entry, no value moves.


class ReturnRefused(DomainError):
    code = Refusal.RETURN_REFUSED
    status = 409


RETURN_QUOTED = 5  # serials quoted in a refusal


def operator_organisation():
    """The operator's organisation, whose stock returned booklets go back to (the first active one)."""
    from passnum.organisations.models import Organisation

    operator = Organisation.objects.filter(kind=OrganisationKind.OPERATOR, is_active=True).order_by("pk").first()
    if operator is None:
        raise ReturnRefused(
            "Le stock de l'opérateur est introuvable : les carnets ne peuvent pas être rendus pour l'instant. "
            "Contactez l'opérateur.",
            code=Refusal.OPERATOR_MISSING,
        )
    return operator


def check_returning_prescriber(organisation):
    if organisation is None or organisation.kind != OrganisationKind.PRESCRIBER:
        raise ReturnRefused("Seul un prescripteur peut rendre des carnets de son stock.", code=Refusal.NOT_A_PRESCRIBER)


def serial_ranges(booklets):
    """``["GIR000001 à GIR000010", "GIR000015"]``: the serials of ``booklets`` (objects or dicts with
    ``programme_id``, ``number`` and ``serial``) as runs of consecutive numbers of one programme."""

    def get(booklet, name):
        return booklet[name] if isinstance(booklet, dict) else getattr(booklet, name)

    runs = []
    for booklet in sorted(booklets, key=lambda b: (get(b, "programme_id"), get(b, "number"))):
        key, number, serial = get(booklet, "programme_id"), get(booklet, "number"), get(booklet, "serial")
        if runs and runs[-1][0] == key and runs[-1][1] == number - 1:
            runs[-1][1], runs[-1][3] = number, serial
        else:
            runs.append([key, number, serial, serial])
    return [first if first == last else f"{first} à {last}" for _key, _number, first, last in runs]


def _quote(serials):
    more = len(serials) - RETURN_QUOTED
    return ", ".join(serials[:RETURN_QUOTED]) + (f" et {more} autre(s)" if more > 0 else "")


def _split_serials(serials):
    """What was typed or scanned (a text, or a list) → normalised serials, in order, without repeats."""
    from passnum.passes.selectors import normalise_serial

    if isinstance(serials, str):
        serials = serials.replace(",", " ").replace(";", " ").split()
    return list(dict.fromkeys(s for s in (normalise_serial(x) for x in serials or ()) if s))


def _find_returned_booklets(serials, first_serial, last_serial, *, for_update):
    """The booklets named by a list of serials or by a range (first and last serial of one programme).
    Refuses unknown serials and malformed requests; ``for_update`` locks the rows, in serial order."""
    from passnum.passes.selectors import normalise_serial

    wanted = _split_serials(serials)
    first, last = normalise_serial(first_serial), normalise_serial(last_serial)
    queryset = Booklet.objects.select_related("programme").order_by("serial")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    if wanted and (first or last):
        raise ReturnRefused(
            "Indiquez soit une liste de numéros, soit une série (du premier au dernier), pas les deux.",
            code=Refusal.RETURN_INVALID,
            field="serials",
        )
    if first or last:
        if not first or not last:
            raise ReturnRefused(
                "Indiquez le premier et le dernier numéro de la série.",
                code=Refusal.RETURN_INVALID,
                field="first_serial",
            )
        ends = {b.serial: b for b in Booklet.objects.filter(serial__in=[first, last])}
        for serial, field in ((first, "first_serial"), (last, "last_serial")):
            if serial not in ends:
                raise ReturnRefused(
                    f"Aucun carnet ne porte le numéro {serial} : vérifiez le numéro imprimé sous le code-barres.",
                    code=Refusal.BOOKLET_UNKNOWN,
                    field=field,
                )
        start, end = ends[first], ends[last]
        if start.programme_id != end.programme_id:
            raise ReturnRefused(
                "Le premier et le dernier carnet de la série doivent être du même programme.",
                code=Refusal.RETURN_INVALID,
                field="first_serial",
            )
        if start.number > end.number:
            raise ReturnRefused(
                "Le premier numéro doit précéder le dernier.",
                code=Refusal.RETURN_INVALID,
                field="first_serial",
            )
        if end.number - start.number + 1 > MAX_ALLOCATION:
            raise ReturnRefused(
                f"Rendez au plus {MAX_ALLOCATION} carnets à la fois.",
                code=Refusal.RETURN_TOO_MANY,
                field="first_serial",
            )
        return list(queryset.filter(programme_id=start.programme_id, number__gte=start.number, number__lte=end.number))
    if not wanted:
        raise ReturnRefused(
            "Indiquez les carnets à rendre : leurs numéros, ou le premier et le dernier d'une série.",
            code=Refusal.RETURN_EMPTY,
            field="serials",
        )
    if len(wanted) > MAX_ALLOCATION:
        raise ReturnRefused(
            f"Rendez au plus {MAX_ALLOCATION} carnets à la fois.",
            code=Refusal.RETURN_TOO_MANY,
            field="serials",
        )
    booklets = list(queryset.filter(serial__in=wanted))
    found = {b.serial for b in booklets}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise ReturnRefused(
            (
                f"Aucun carnet ne porte le numéro {unknown[0]}"
                if len(unknown) == 1
                else f"Aucun carnet ne porte ces {len(unknown)} numéros : {_quote(unknown)}"
            )
            + ". Vérifiez les numéros imprimés sous les codes-barres ; aucun carnet n'a été rendu.",
            code=Refusal.BOOKLET_UNKNOWN,
            field="serials",
        )
    return booklets


def _check_returnable(prescriber, booklets, *, field):
    """Every booklet must be in this prescriber's stock, never handed out: all or nothing."""
    elsewhere, handed_out, cancelled = [], [], []
    for booklet in booklets:
        if booklet.holder_id != prescriber.pk:
            elsewhere.append(booklet.serial)  # another holder's booklet: say nothing of its state
        elif booklet.state == Booklet.State.HANDED_OUT:
            handed_out.append(booklet.serial)
        elif booklet.state == Booklet.State.CANCELLED:
            cancelled.append(booklet.serial)
        elif booklet.state != Booklet.State.ALLOCATED:
            elsewhere.append(booklet.serial)
    problems = []
    if elsewhere:
        problems.append(
            (
                Refusal.BOOKLET_NOT_IN_STOCK,
                404,
                f"Le carnet {elsewhere[0]} ne fait pas partie du stock de votre organisation."
                if len(elsewhere) == 1
                else f"{len(elsewhere)} carnets ne sont pas dans le stock de votre organisation : {_quote(elsewhere)}.",
            )
        )
    if handed_out:
        problems.append(
            (
                Refusal.BOOKLET_ALREADY_HANDED_OUT,
                409,
                f"Le carnet {handed_out[0]} a déjà été remis à un bénéficiaire."
                if len(handed_out) == 1
                else f"{len(handed_out)} carnets ont déjà été remis à des bénéficiaires : {_quote(handed_out)}.",
            )
        )
    if cancelled:
        problems.append(
            (
                Refusal.BOOKLET_CANCELLED,
                409,
                f"Le carnet {cancelled[0]} a été déclaré perdu ou annulé."
                if len(cancelled) == 1
                else f"{len(cancelled)} carnets ont été déclarés perdus ou annulés : {_quote(cancelled)}.",
            )
        )
    if problems:
        code, status, _ = problems[0]
        raise ReturnRefused(
            " ".join(text for _, _, text in problems)
            + " Seuls les carnets de votre stock jamais remis peuvent être rendus : retirez ces numéros et "
            "recommencez (aucun carnet n'a été rendu).",
            code=code,
            field=field,
            status=status,
        )
    used = sorted(
        set(
            Pass.objects.filter(booklet__in=booklets)
            .exclude(state=PassState.CREATED)
            .values_list("booklet__serial", flat=True)
        )
    )
    if used:
        raise ReturnRefused(
            f"Des pass du carnet {used[0]} ont déjà servi ou été activés : il ne peut pas être rendu.",
            code=Refusal.BOOKLET_PASS_USED,
            field=field,
        )


def check_return(prescriber, serials=(), *, first_serial="", last_serial=""):
    """Validates a return without writing anything: the booklets that would go back (for a
    confirmation page). ``serials`` is a list or a text (spaces, commas, new lines)."""
    check_returning_prescriber(prescriber)
    booklets = _find_returned_booklets(serials, first_serial, last_serial, for_update=False)
    _check_returnable(prescriber, booklets, field="first_serial" if first_serial or last_serial else "serials")
    return booklets


@transaction.atomic
def return_booklets(prescriber, serials=(), *, first_serial="", last_serial="", batch=None, actor=None, request=None):
    """A prescriber sends booklets of its stock it never handed out back to the operator's stock.

    The booklets are named by ``serials`` (a list or a text) or by a range (``first_serial`` to
    ``last_serial``, one programme). All or nothing: one booklet unknown, of another holder, handed
    out or cancelled refuses the whole return. The booklet rows are locked (serial order) before
    they are checked; each booklet gets a ``StockMovement`` from the prescriber to the operator's
    organisation (one ``batch``), then state ``created`` and no holder; one audit entry per programme.

    ``batch`` (at most 32 characters) is the key of a confirmation page: submitting it again
    returns the booklets of the first submission and moves nothing. Returns ``(booklets, created)``.
    """
    check_returning_prescriber(prescriber)
    operator = operator_organisation()
    booklets = _find_returned_booklets(serials, first_serial, last_serial, for_update=True)
    batch = (batch or "").strip()[:32]
    if batch:
        # Checked once the rows are locked: a concurrent double submission waits, then finds the first.
        done = StockMovement.objects.filter(batch=batch, from_organisation=prescriber, to_organisation=operator)
        done_ids = set(done.values_list("booklet_id", flat=True))
        if done_ids:
            return [b for b in booklets if b.pk in done_ids], False
    else:
        batch = secrets.token_hex(8)
    _check_returnable(prescriber, booklets, field="first_serial" if first_serial or last_serial else "serials")
    now = timezone.now()
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                booklet=b, from_organisation=prescriber, to_organisation=operator, batch=batch, at=now, actor=actor
            )
            for b in booklets
        ],
        batch_size=BATCH_SIZE,
    )
    Booklet.objects.filter(pk__in=[b.pk for b in booklets]).update(state=Booklet.State.CREATED, holder=None)
    by_programme = {}
    for booklet in booklets:
        booklet.state, booklet.holder = Booklet.State.CREATED, None
        by_programme.setdefault(booklet.programme_id, []).append(booklet)
    for group in by_programme.values():
        record(
            "passes.booklets.returned",
            actor=actor,
            request=request,
            organisation=prescriber,
            target=group[0].programme,
            before={"holder": prescriber.pk, "state": Booklet.State.ALLOCATED},
            after={
                "holder": None,
                "state": Booklet.State.CREATED,
                "to_organisation": operator.pk,
                "count": len(group),
                "serials": serial_ranges(group),
                "batch": batch,
            },
        )
    return booklets, True


# --- Expiry and end-date moves (called by clearing and sponsors) ------------------------------
#
# Which passes expire: the ones still worth money once the upload window of their last day is
# closed (``validity``), i.e. active passes and the never-handed-out passes of a PAID order (the
# sponsor paid for them: they are credited back). Passes of an order never paid stay ``created``:
# they were never money; the expiry reports them apart and the ledger counts them as created.

_EXPIRE_SQL = """
WITH moved AS (
    UPDATE passes_pass AS pass SET state = %(expired)s
    FROM passes_booklet AS booklet, sponsors_order AS ord
    WHERE booklet.id = pass.booklet_id AND ord.id = booklet.order_id
      AND pass.expires_on <= %(last_expires_on)s
      AND (pass.state = %(active)s OR (pass.state = %(created)s AND ord.status = %(paid)s))
    RETURNING pass.id, pass.programme_id, pass.face_value_cents, pass.expires_on
), journal AS (
    INSERT INTO passes_passjournal (pass_id, kind, at, actor_id, details)
    SELECT id, %(kind)s, %(at)s, NULL, jsonb_build_object('expires_on', expires_on::text) FROM moved
)
SELECT programme_id, count(*), sum(face_value_cents) FROM moved GROUP BY programme_id ORDER BY programme_id
"""


def expire_passes_past(*, last_expires_on, at=None) -> dict[int, tuple[int, int]]:
    """Passes worth money whose ``expires_on`` is on or before ``last_expires_on`` become
    ``expired``, with their journal entry, in one statement on PostgreSQL (set-based: no loop
    over passes). Returns ``{programme_id: (passes, cents)}`` of the passes moved now.

    Safe to run twice at once: the update repeats the state condition, so a pass already moved
    by the other run (whose row lock it waited for) is not moved, nor journaled, again."""
    at = at or timezone.now()
    params = {
        "expired": PassState.EXPIRED,
        "active": PassState.ACTIVE,
        "created": PassState.CREATED,
        "paid": "paid",
        "last_expires_on": last_expires_on,
        "kind": JournalKind.EXPIRED,
        "at": at,
    }
    if single_statement_writes():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_EXPIRE_SQL, params)
            return {programme_id: (count, int(cents)) for programme_id, count, cents in cursor.fetchall()}
    # The embedded default (SQLite): the same set, locked by SQLite's write transaction.
    with transaction.atomic():
        worth_money = Pass.objects.filter(expires_on__lte=last_expires_on).filter(
            Q(state=PassState.ACTIVE) | Q(state=PassState.CREATED, booklet__order__status="paid")
        )
        rows = list(worth_money.values_list("pk", "programme_id", "face_value_cents", "expires_on"))
        Pass.objects.filter(pk__in=[row[0] for row in rows]).update(state=PassState.EXPIRED)
        PassJournal.objects.bulk_create(
            [
                PassJournal(pass_ref_id=pk, kind=JournalKind.EXPIRED, at=at, details={"expires_on": str(day)})
                for pk, _, _, day in rows
            ],
            batch_size=BATCH_SIZE,
        )
    moved = {}
    for _pk, programme_id, cents, _day in rows:
        count, total = moved.get(programme_id, (0, 0))
        moved[programme_id] = (count + 1, total + cents)
    return moved


def move_programme_dates(*, programme, valid_until, expires_on) -> int:
    """A programme's end moved: its passes' dates move with it, in the caller's transaction
    (the programme row locked by it). Refused once a pass of it expired. Returns the passes moved."""
    if Pass.objects.filter(programme=programme, state=PassState.EXPIRED).exists():
        raise BookletRefused(
            "Des pass de ce programme ont déjà expiré et ont été remboursés au commanditaire par un avoir : "
            "sa date de fin ne peut plus changer.",
            code="programme_already_expired",
            field="valid_until",
        )
    return Pass.objects.filter(programme=programme).update(valid_until=valid_until, expires_on=expires_on)


# --- Print files: who downloads them, delivery, purge ----------------------------------------


class PrintFilesForbidden(DomainError):
    code = "print_files_forbidden"
    message = (
        "Les fichiers d'impression contiennent les codes des pass, qui valent de l'argent : seuls les "
        "administrateurs et les membres « finances » du commanditaire, avec la double authentification "
        "activée, peuvent les télécharger."
    )


def check_may_download_print_files(*, user, membership) -> None:
    """Print files hold live codes: the operator, and the sponsor's admin or finance members who
    sign in with a second factor. Anyone else: ``PrintFilesForbidden``."""
    from passnum.passes.selectors import may_download_print_files

    if not may_download_print_files(user=user, membership=membership):
        raise PrintFilesForbidden()


@transaction.atomic
def record_print_file_downloads(*, files, actor, request=None) -> None:
    """One audit entry per downloaded file (who, which file, when), before the bytes leave."""
    for print_file in files:
        record_download(
            kind="passes.print_file",
            actor=actor,
            organisation=print_file.print_run.order.programme.sponsor,
            document=print_file,
            file_name=print_file.download_name,
            request=request,
        )


@transaction.atomic
def mark_print_run_delivered(*, run, actor, request=None) -> PrintRun:
    """The printer has delivered the booklets of ``run``: its files will be purged later."""
    run = PrintRun.objects.select_for_update().select_related("order__programme__sponsor").get(pk=run.pk)
    if run.status != PrintRun.Status.DONE:
        raise PrintRunRefused("Cette impression n'est pas terminée : elle ne peut pas être marquée livrée.")
    if run.delivered_at is None:
        run.delivered_at = timezone.now()
        run.delivered_by = actor
        run.save(update_fields=["delivered_at", "delivered_by"])
        record(
            "passes.print_run.delivered",
            actor=actor,
            organisation=run.order.programme.sponsor,
            target=run,
            request=request,
        )
    return run


def purge_delivered_print_files(*, now=None) -> int:
    """Deletes the PDF of every print file whose run was delivered more than
    ``PASSNUM_PRINT_FILE_RETENTION_DAYS`` days ago; the row stays (what was printed, when).
    Returns the number of files deleted. Safe to run again: a purged file is skipped."""
    from django.conf import settings
    from django.core.files.storage import default_storage

    from passnum.passes.models import PrintFile

    now = now or timezone.now()
    limit = now - timedelta(days=settings.PASSNUM_PRINT_FILE_RETENTION_DAYS)
    purged = 0
    pending = PrintFile.objects.filter(purged_at__isnull=True, print_run__delivered_at__lte=limit)
    for pk in pending.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            print_file = (
                PrintFile.objects.select_for_update()
                .select_related("print_run__order__programme__sponsor")
                .filter(pk=pk, purged_at__isnull=True)
                .first()
            )
            if print_file is None:
                continue
            name = print_file.file.name
            print_file.file = ""
            print_file.purged_at = now
            print_file.save(update_fields=["file", "purged_at"])
            record(
                "passes.print_file.purged",
                organisation=print_file.print_run.order.programme.sponsor,
                target=print_file,
                before={"file": name},
            )
            if name:  # the bytes go once the row says so (a failed delete leaves an orphan, not a link)
                transaction.on_commit(lambda name=name: default_storage.delete(name))
        purged += 1
    return purged

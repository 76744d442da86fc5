"""Use cases of the pass instrument. The only code that writes booklets, passes and their journal.

Every function runs in one transaction and keeps ``Pass.state`` in step with ``PassJournal``.
Other apps (sponsors, prescribers, mediators, clearing) call these functions.
"""

import calendar
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from passnum.audit.services import record
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.passes import codes
from passnum.passes.models import Booklet, JournalKind, Pass, PassJournal, PassState, PrintRun, StockMovement

MAX_ALLOCATION = 5000
BATCH_SIZE = 2000


class OrderNotPaid(DomainError):
    code = "order_not_paid"
    message = "La commande n'est pas encore payée : les pass ne peuvent pas être activés ni imprimés."


class AllocationRefused(DomainError):
    code = "allocation_refused"


class PrintRunRefused(DomainError):
    code = "print_run_refused"


class BookletRefused(DomainError):
    code = "booklet_refused"


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


def transition(passes, kind, new_state, *, from_states, actor=None, details=None):
    """Moves ``passes`` (a queryset) from one of ``from_states`` to ``new_state`` and journals it.

    Returns the ids of the passes moved. Locks them first, so two transitions never cross.
    """
    ids = list(passes.filter(state__in=from_states).select_for_update().values_list("pk", flat=True))
    if ids:
        Pass.objects.filter(pk__in=ids).update(state=new_state)
        _journal(ids, kind, actor=actor, details=details)
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
    passes = Pass.objects.bulk_create(
        [
            Pass(
                booklet_id=booklet.pk,
                programme_id=programme.pk,
                position=position,
                code=codes.generate(),
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


def activate_booklet_passes(booklet, *, actor=None):
    """The booklet was handed out and its order is paid: its passes become redeemable."""
    check_order_paid(booklet.order)
    return transition(
        booklet.passes.all(), JournalKind.ACTIVATED, PassState.ACTIVE, from_states=[PassState.CREATED], actor=actor
    )


@transaction.atomic
def hand_out_booklet(booklet, *, actor=None, details=None):
    """A prescriber hands the booklet to a person: journal ``handed_out``, then activation."""
    booklet = Booklet.objects.select_for_update().select_related("order").get(pk=booklet.pk)
    check_order_paid(booklet.order)
    if booklet.state != Booklet.State.ALLOCATED:
        raise BookletRefused("Ce carnet n'est pas en stock chez un prescripteur : il ne peut pas être remis.")
    booklet.state = Booklet.State.HANDED_OUT
    booklet.save(update_fields=["state"])
    ids = list(booklet.passes.values_list("pk", flat=True))
    _journal(ids, JournalKind.HANDED_OUT, actor=actor, details=details or {})
    activate_booklet_passes(booklet, actor=actor)
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
def allocate_booklets(order, prescriber, *, first_serial=None, last_serial=None, count=None, actor=None, request=None):
    """Sends booklets of a paid order to a prescriber's stock, by serial range or by count."""
    check_order_paid(order)
    check_prescriber(prescriber)
    booklets = _booklets_to_allocate(order, first_serial=first_serial, last_serial=last_serial, count=count)
    now = timezone.now()
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
    transaction.on_commit(lambda: run_print.delay(run.pk))


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
    back to ``created`` (journal ``created`` with ``event: hand_out_undone``). Refused once a pass
    of it was used."""
    booklet = Booklet.objects.select_for_update().get(pk=booklet.pk)
    if booklet.state != Booklet.State.HANDED_OUT:
        raise BookletRefused("Ce carnet n'est pas remis : il n'y a pas de remise à annuler.")
    states = set(booklet.passes.select_for_update().values_list("state", flat=True))
    if states - {PassState.CREATED, PassState.ACTIVE}:
        raise BookletRefused(
            "Un pass de ce carnet a déjà été utilisé : la remise ne peut plus être annulée.", code="booklet_pass_used"
        )
    ids = transition(
        booklet.passes.all(),
        JournalKind.CREATED,
        PassState.CREATED,
        from_states=[PassState.ACTIVE],
        actor=actor,
        details={"event": "hand_out_undone", **(details or {})},
    )
    booklet.state = Booklet.State.ALLOCATED
    booklet.save(update_fields=["state"])
    return ids

"""Use cases of clearing: the expiry of passes, the sponsors' alerts before a programme's end
and the credit notes (avoirs) of expired passes.

The expiry is set-based (one statement moves every pass and writes its journal), serialised by a
PostgreSQL advisory lock, and idempotent: a pass expires once, a programme gets one credit note.
"""

import io
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, send_mail
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clearing import selectors
from clearing.models import CreditNote, ExpiryAlert
from passnum.audit.services import record
from passnum.errors import DomainError
from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from passnum.passes import validity
from passnum.passes.models import PassState
from sponsors import selectors as sponsor_selectors
from sponsors.templatetags.money import euros

ALERT_THRESHOLDS = (30, 15, 7)  # days before a programme's end
# Key of the advisory lock that queues two expiry runs behind each other ("PNEXPIRY").
EXPIRY_LOCK_KEY = 0x504E_4558_5049_5259


class CreditNoteRefused(DomainError):
    code = "credit_note_refused"


@dataclass
class ExpiryReport:
    """What a run of ``expire_passes`` did, per programme id: ``(passes, cents)``."""

    today: date
    expired: dict[int, tuple[int, int]] = field(default_factory=dict)
    credit_notes: list[str] = field(default_factory=list)
    # Passes of orders never paid, past their end: not money, left ``created``, reported apart.
    unpaid: dict[int, tuple[int, int]] = field(default_factory=dict)
    # Passes expired after their programme's credit note (an order paid after the end).
    not_credited: dict[int, tuple[int, int]] = field(default_factory=dict)


def _lock_expiry():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EXPIRY_LOCK_KEY])


def expire_passes(*, today: date | None = None) -> ExpiryReport:
    """The nightly expiry: every pass still worth money whose upload window closed before
    ``today`` (see ``passes.validity``) becomes ``expired`` with its journal entry, and each
    programme with expired passes gets its credit note, all in one transaction. Running it again,
    or twice at once, expires and credits nothing more."""
    today = today or timezone.localdate()
    last_expires_on = validity.last_expires_on_to_expire(today=today)
    report = ExpiryReport(today=today)
    with transaction.atomic():
        _lock_expiry()
        report.expired = pass_services.expire_passes_past(last_expires_on=last_expires_on)
        for note in issue_credit_notes(today=today):
            report.credit_notes.append(note.number)
        report.unpaid = pass_selectors.unpaid_passes_past(last_expires_on=last_expires_on)
        report.not_credited = selectors.expired_not_credited()
        programmes = sponsor_selectors.programmes_with_ids(report.expired)
        for programme in programmes:
            passes, cents = report.expired[programme.pk]
            record(
                "clearing.passes.expired",
                organisation=programme.sponsor,
                target=programme,
                after={"passes": passes, "cents": cents, "day": today.isoformat()},
            )
    return report


# --- Credit notes ---------------------------------------------------------------------------


def credit_note_number(*, year: int) -> str:
    """The next ``AV-YYYY-NNNNNN``, from the gapless numbering (inside the note's transaction)."""
    from passnum.numbering.services import next_number

    return next_number(series="AV", year=year)


def issue_credit_notes(*, today: date | None = None) -> list[CreditNote]:
    """A credit note for every programme that has expired passes and none yet."""
    ids = sorted(selectors.programmes_to_credit())
    notes = []
    for programme in sponsor_selectors.programmes_with_ids(ids).order_by("pk"):
        note = issue_credit_note(programme=programme)
        if note is not None:
            notes.append(note)
    return notes


def issue_credit_note(*, programme) -> CreditNote | None:
    """The credit note of a programme's expiry: face value × expired passes (the operator's fee is
    not refunded); cancelled passes reported, not credited. ``None`` if it exists already or no
    pass expired. The PDF is rendered and e-mailed after commit (Celery)."""
    values = pass_selectors.value_by_programme_and_state(programme=programme).get(programme.pk, {})
    expired_count, expired_cents = values.get(PassState.EXPIRED, (0, 0))
    cancelled_count, cancelled_cents = values.get(PassState.CANCELLED, (0, 0))
    if not expired_count:
        return None
    if expired_cents != expired_count * programme.face_value_cents:
        raise CreditNoteRefused(
            f"Les pass expirés du programme « {programme.name} » n'ont pas tous sa valeur faciale : "
            "lancez le contrôle des comptes (check_ledger) avant d'émettre l'avoir.",
            code="credit_note_face_value_mismatch",
        )
    sponsor = programme.sponsor
    now = timezone.now()
    year = timezone.localtime(now).year
    try:
        with transaction.atomic():
            if CreditNote.objects.filter(programme=programme).exists():
                return None
            note = CreditNote.objects.create(
                programme=programme,
                sponsor=sponsor,
                number=credit_note_number(year=year),
                year=year,
                issued_at=now,
                sponsor_name=sponsor.name,
                sponsor_address=" ".join(x for x in (sponsor.address, sponsor.postcode, sponsor.city) if x),
                sponsor_siret=sponsor.siret,
                programme_name=programme.name,
                valid_until=programme.valid_until,
                expires_on=pass_services.expiry_date(programme),
                face_value_cents=programme.face_value_cents,
                expired_pass_count=expired_count,
                amount_cents=expired_cents,
                cancelled_pass_count=cancelled_count,
                cancelled_value_cents=cancelled_cents,
            )
    except IntegrityError:  # issued at the same moment by another run: its note stands
        return None
    record(
        "clearing.credit_note.issued",
        organisation=sponsor,
        target=note,
        after={"number": note.number, "amount_cents": note.amount_cents, "passes": expired_count},
    )
    transaction.on_commit(lambda: _send_later(note.pk))
    return note


def _send_later(pk):
    from clearing.tasks import render_and_send_credit_note

    render_and_send_credit_note.delay(pk)


def render_credit_note_pdf(note: CreditNote) -> bytes:
    from weasyprint import HTML

    html = render_to_string("clearing/credit_note_pdf.html", {"note": note, "issuer": settings.PASSNUM_OPERATOR_NAME})
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer)
    return buffer.getvalue()


def attach_credit_note_pdf(*, credit_note: CreditNote) -> CreditNote:
    """Renders the PDF once (the database refuses to replace it)."""
    with transaction.atomic():
        note = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
        if not note.pdf:
            note.pdf.save(f"{note.number}.pdf", ContentFile(render_credit_note_pdf(note)), save=False)
            CreditNote.objects.filter(pk=note.pk).update(pdf=note.pdf.name)
    return note


def send_credit_note(*, credit_note: CreditNote) -> bool:
    """E-mails the credit note (PDF attached) to the sponsor's admins and finance members, once."""
    with transaction.atomic():
        note = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
        if note.sent_at is not None or not note.pdf:
            return False
        recipients = selectors.sponsor_managers_emails(note.sponsor)
        CreditNote.objects.filter(pk=note.pk).update(sent_at=timezone.now())
        if recipients:
            link = settings.SITE_URL.rstrip("/") + reverse("sponsors:home")
            body = (
                f"Bonjour,\n\nLes pass du programme « {note.programme_name} » non utilisés à la fin de leur "
                f"validité ont expiré le {note.expires_on:%d/%m/%Y}. Nous vous remboursons leur valeur faciale "
                f"par l'avoir {note.number} ci-joint : {note.expired_pass_count} pass, soit "
                f"{euros(note.amount_cents)} (les frais de gestion ne sont pas remboursés).\n"
                + (
                    f"Les {note.cancelled_pass_count} pass des carnets déclarés perdus ou annulés "
                    f"({euros(note.cancelled_value_cents)}) ne sont pas remboursés ; ils figurent sur l'avoir "
                    "pour information.\n"
                    if note.cancelled_pass_count
                    else ""
                )
                + f"\nL'avoir est aussi disponible dans votre espace : {link}\n\nL'équipe du Pass numérique"
            )
            with note.pdf.open("rb") as handle:
                content = handle.read()
            message = EmailMessage(f"Avoir {note.number} — Pass numérique", body, None, recipients)
            message.attach(f"{note.number}.pdf", content, "application/pdf")
            transaction.on_commit(message.send)
    return True


# --- Alerts before a programme's end --------------------------------------------------------


def send_expiry_alerts(*, today: date | None = None) -> int:
    """Warns each sponsor whose programme ends in 30, 15 or 7 days (``valid_until``, the date
    printed on the booklets), once per threshold: the alert is recorded (unique per programme,
    threshold and end date) in the transaction that sends it. A night missed sends only the most
    urgent threshold crossed. Returns the number of e-mails sent."""
    today = today or timezone.localdate()
    sent = 0
    for programme in sponsor_selectors.programmes_ending_soon(today=today, within_days=max(ALERT_THRESHOLDS)):
        days_left = (programme.valid_until - today).days
        crossed = [t for t in ALERT_THRESHOLDS if days_left <= t]
        if not crossed:
            continue
        counters = sponsor_selectors.programme_counters(programme=programme)
        if not counters["issued"]:
            continue  # nothing was ordered: nothing to warn about
        if _send_alert(programme, min(crossed), crossed, counters, days_left):
            sent += 1
    return sent


def _send_alert(programme, threshold, crossed, counters, days_left):
    recipients = selectors.sponsor_managers_emails(programme.sponsor)
    try:
        with transaction.atomic():
            if ExpiryAlert.objects.filter(
                programme=programme, valid_until=programme.valid_until, days_before__lte=threshold
            ).exists():
                return False
            now = timezone.now()
            ExpiryAlert.objects.create(
                programme=programme,
                days_before=threshold,
                valid_until=programme.valid_until,
                sent_at=now,
                recipients=recipients,
                counters=counters,
            )
            # The larger thresholds a missed night skipped: recorded, never sent afterwards.
            ExpiryAlert.objects.bulk_create(
                [
                    ExpiryAlert(
                        programme=programme, days_before=t, valid_until=programme.valid_until, sent_at=now, counters={}
                    )
                    for t in crossed
                    if t != threshold
                ],
                ignore_conflicts=True,
            )
            if recipients:
                subject, body = _alert_text(programme, counters, days_left)
                transaction.on_commit(lambda: send_mail(subject, body, None, recipients))
    except IntegrityError:  # the same alert, recorded at the same moment by another run
        return False
    return True


def _alert_text(programme, counters, days_left):
    link = settings.SITE_URL.rstrip("/") + reverse("sponsors:programme", kwargs={"pk": programme.pk})
    expires_on = pass_services.expiry_date(programme)
    subject = f"Fin du programme « {programme.name} » dans {days_left} jours — Pass numérique"
    body = (
        f"Bonjour,\n\nLes pass du programme « {programme.name} » sont valables jusqu'au "
        f"{programme.valid_until:%d/%m/%Y}, soit dans {days_left} jours. Les structures pourront encore les "
        f"encaisser jusqu'au {expires_on:%d/%m/%Y} (délai de grâce).\n\n"
        "Où en sont vos carnets :\n"
        f"- émis : {counters['issued']}\n"
        f"- chez les prescripteurs, pas encore remis : {counters['at_prescribers']}\n"
        f"- remis aux bénéficiaires : {counters['handed_out']}\n"
        f"- commencés (au moins un pass utilisé) : {counters['started']}\n"
        f"- entièrement utilisés : {counters['used_up']}\n\n"
        "Pour que les pass servent, vous pouvez relancer vos prescripteurs ou prolonger la validité du "
        "programme depuis votre espace. Après la fin, les pass non utilisés vous seront remboursés à leur "
        "valeur faciale par un avoir.\n\n"
        f"Votre programme : {link}\n\nL'équipe du Pass numérique"
    )
    return subject, body

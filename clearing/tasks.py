"""Nightly jobs of clearing (Celery beat, see CELERY_BEAT_SCHEDULE) and the credit notes' PDF."""

from celery import shared_task

from clearing import services
from clearing.models import CreditNote


@shared_task
def expire_passes():
    """Expires the passes whose upload window closed and issues the credit notes. Idempotent."""
    report = services.expire_passes()
    return {
        "expired": sum(n for n, _ in report.expired.values()),
        "credit_notes": report.credit_notes,
        "unpaid": sum(n for n, _ in report.unpaid.values()),
    }


@shared_task
def send_expiry_alerts():
    """J-30, J-15, J-7 warnings to sponsors, once each."""
    return services.send_expiry_alerts()


@shared_task
def render_and_send_credit_note(pk):
    """After the credit note's commit: its PDF, then the e-mail to the sponsor (each once)."""
    note = CreditNote.objects.get(pk=pk)
    services.attach_credit_note_pdf(credit_note=note)
    return services.send_credit_note(credit_note=note)

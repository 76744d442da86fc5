"""Jobs of clearing (Celery): the monthly close on the 1st, the statements' PDFs after commit."""

from celery import shared_task
from django.utils import timezone

from clearing import services
from clearing.models import CreditNote, Statement, SubscriptionInvoice
from clearing.pdf import render_statement_pdf, render_subscription_invoice_pdf
from passnum import mail
from passnum.organisations.enums import Role
from passnum.organisations.selectors import members_of
from passnum.passes.tasks import STORAGE_RETRIES, STORAGE_RETRY_DELAY
from passnum.storage import StorageUnavailable

PDF_BATCH = 50


@shared_task
def close_previous_month():
    """Beat, on the 1st at 02:00 (Paris): closes the month that just ended. Safe to rerun."""
    result = services.close_month(month=services.previous_month(timezone.localdate()))
    return result.message


def organisation_finance_recipients(organisation):
    """E-mails of the organisation's admins and finance members."""
    members = members_of(organisation).filter(role__in=[Role.ADMIN, Role.FINANCE], user__is_active=True)
    return sorted({m.user.email for m in members if m.user.email})


def site_finance_recipients(site):
    """E-mails of the site's admins and finance members."""
    return organisation_finance_recipients(site.organisation)


def send_statement(statement):
    recipients = site_finance_recipients(statement.site)
    if not recipients:
        return
    mail.send_after_commit(
        subject=f"Relevé de remboursement {statement.number} — Pass numérique",
        body=(
            f"Bonjour,\n\nVoici le relevé de remboursement {statement.number} de « {statement.site_name} » pour les "
            f"encaissements de {statement.month:%m/%Y} : {statement.total_display} à vous verser.\n\n"
            "Il est aussi disponible dans votre espace, rubrique « Relevés ».\n\nL'équipe du Pass numérique"
        ),
        to=recipients,
        attachments=[(f"{statement.number}.pdf", statement.pdf.name, "application/pdf")],
    )


@shared_task(bind=True, max_retries=STORAGE_RETRIES)
def render_statement_pdfs(self, statement_ids):
    """Renders, stores and e-mails the PDF of each statement that has none yet, by batches.

    Runs after the close has committed; a statement rendered already is skipped, so a retry sends
    nothing twice. A full or unavailable file store (missing bucket…): retried every minute."""
    try:
        return _render_statement_pdfs(statement_ids)
    except StorageUnavailable as error:
        raise self.retry(exc=error, countdown=STORAGE_RETRY_DELAY) from error


def _render_statement_pdfs(statement_ids):
    rendered = 0
    ids = sorted(statement_ids)
    for start in range(0, len(ids), PDF_BATCH):
        batch = Statement.objects.filter(pk__in=ids[start : start + PDF_BATCH], pdf="").select_related(
            "site__organisation"
        )
        for statement in batch:
            content = render_statement_pdf(statement)
            if services.attach_pdf(statement=statement, name=f"{statement.number}.pdf", content=content):
                send_statement(statement)
                rendered += 1
    return rendered


# --- expiry and credit notes


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


@shared_task
def issue_subscription_invoices():
    """Beat, every morning after the subscriptions are opened: invoices those still without one."""
    return services.issue_subscription_invoices()


@shared_task
def render_subscription_invoice_pdfs(invoice_ids):
    """Renders, stores and e-mails the PDF of each subscription invoice that has none yet."""
    rendered = 0
    for invoice in SubscriptionInvoice.objects.filter(pk__in=invoice_ids, pdf="").select_related("site__organisation"):
        content = render_subscription_invoice_pdf(invoice)
        if not services.attach_invoice_pdf(invoice=invoice, content=content):
            continue
        rendered += 1
        recipients = site_finance_recipients(invoice.site)
        if recipients:
            mail.send_after_commit(
                subject=f"Facture {invoice.number} : abonnement {invoice.subscription_year} au Pass numérique",
                body=(
                    f"Bonjour,\n\nVoici la facture {invoice.number} de l'abonnement {invoice.subscription_year} de "
                    f"« {invoice.site_name} » : {invoice.total_display} TTC.\n\nSi vous avez choisi de la déduire de "
                    "vos remboursements (espace de la structure, rubrique « Relevés »), elle le sera sur votre "
                    "prochain relevé ; sinon, merci de la régler par virement.\n\nL'équipe du Pass numérique"
                ),
                to=recipients,
                attachments=[(f"{invoice.number}.pdf", invoice.pdf.name, "application/pdf")],
            )
    return rendered

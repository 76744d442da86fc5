from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from clearing.models import CreditNote, ExpiryAlert
from clearing.selectors import ledger
from passnum.admin_helpers import ReadOnlyAdmin
from passnum.organisations.tenancy import public_path
from passnum.passes.downloads import file_response


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    """Credit notes change only through ``clearing.services``; the ledger check hangs here."""

    list_display = [
        "number",
        "sponsor_name",
        "programme_name",
        "expired_pass_count",
        "amount_cents",
        "issued_at",
        "sent_at",
    ]
    search_fields = ["number", "sponsor_name", "programme_name"]
    list_filter = ["year"]
    change_list_template = "admin/clearing/creditnote/change_list.html"
    readonly_fields = ["pdf_link"]

    @admin.display(description="PDF")
    def pdf_link(self, note):
        if not note.pdf:
            return "en préparation"
        return format_html('<a href="{}">Télécharger</a>', reverse("admin:clearing_creditnote_pdf", args=[note.pk]))

    def get_urls(self):
        return [
            path("ledger/", self.admin_site.admin_view(self.ledger_view), name="clearing_ledger"),
            public_path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="clearing_creditnote_pdf",
                reason="console de l'opérateur : réservée à son personnel (admin_view), qui voit tous les avoirs",
            ),
            *super().get_urls(),
        ]

    def ledger_view(self, request):
        lines = ledger()
        return TemplateResponse(
            request,
            "admin/clearing/ledger.html",
            {
                **self.admin_site.each_context(request),
                "title": "Contrôle des comptes par programme",
                "lines": lines,
                "unbalanced": [line for line in lines if not line.is_balanced],
                "opts": self.model._meta,
            },
        )

    def pdf_view(self, request, pk):
        note = CreditNote.objects.filter(pk=pk).first()
        if note is None or not note.pdf:
            raise Http404("Cet avoir n'a pas encore de PDF.")
        return file_response(note.pdf, f"{note.number}.pdf")


@admin.register(ExpiryAlert)
class ExpiryAlertAdmin(ReadOnlyAdmin):
    list_display = ["programme", "days_before", "valid_until", "sent_at"]
    list_filter = ["days_before"]
    list_select_related = ["programme"]

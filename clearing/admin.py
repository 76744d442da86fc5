"""The operator's console for clearing: statements (read only; void with a reason; close a
month), adjustments (added, never edited) and the status log."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from clearing import services
from clearing.admin_actions import confirm_then_act
from clearing.models import (
    Adjustment,
    CreditNote,
    ExpiryAlert,
    Statement,
    StatementLine,
    StatementStatusChange,
    SubscriptionInvoice,
    SubscriptionNetting,
)
from clearing.selectors import ledger
from passnum.admin_helpers import ReadOnlyAdmin
from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.tenancy import public_path
from passnum.passes.downloads import file_response, files_response


class VoidForm(forms.Form):
    reason = forms.CharField(label="Motif de l'annulation", widget=forms.Textarea(attrs={"rows": 3}))


class CloseMonthForm(forms.Form):
    month = forms.RegexField(
        label="Mois à clore (AAAA-MM)", regex=r"^\d{4}-(0[1-9]|1[0-2])$", help_text="Par exemple 2026-10."
    )


class StatementLineInline(admin.TabularInline):
    model = StatementLine
    fields = ["redemption", "point_of_presence", "service", "pass_count", "amount_cents", "redeemed_at", "live"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["number", "site_name", "month", "redemption_count", "total_cents", "status", "issued_at"]
    list_filter = ["status", "year", "month"]
    search_fields = ["number", "site_name", "site_siret"]
    inlines = [StatementLineInline]
    actions = ["download", "void"]
    change_list_template = "admin/clearing/statement/change_list.html"

    def get_urls(self):
        return [
            path(
                "clore-un-mois/",
                self.admin_site.admin_view(self.close_month_view),
                name="clearing_statement_close_month",
            ),
            *super().get_urls(),
        ]

    def close_month_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = CloseMonthForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = services.close_month(month=form.cleaned_data["month"])
            except DomainError as error:
                form.add_error("month", error.message)
            else:
                self.message_user(request, result.message)
                return redirect(reverse("admin:clearing_statement_changelist"))
        return render(
            request,
            "admin/clearing/close_month.html",
            {**self.admin_site.each_context(request), "form": form, "title": "Clore un mois"},
        )

    @admin.action(description="Télécharger les relevés choisis (PDF)")
    def download(self, request, queryset):
        ready = [s for s in queryset.select_related("site__organisation") if s.pdf]
        if not ready:
            self.message_user(request, "Aucun PDF n'est encore prêt pour ces relevés.", messages.WARNING)
            return None
        for s in ready:
            record_download(request=request, document=s, organisation=s.site.organisation, file_name=f"{s.number}.pdf")
        return files_response([(s.pdf, f"{s.number}.pdf") for s in ready], "releves.zip")

    @admin.action(description="Annuler le relevé (avec un motif)")
    def void(self, request, queryset):
        def act(statement, data):
            services.void_statement(statement=statement, reason=data["reason"], by=request.user, request=request)
            return f"Relevé {statement.number} annulé : ses encaissements passeront sur le prochain relevé."

        return confirm_then_act(
            self,
            request,
            queryset.select_related("site"),
            act=act,
            title=lambda statement: f"Annuler le relevé {statement.number}",
            intro=lambda statement: (
                "Le relevé garde son numéro et apparaît comme annulé. Ses encaissements "
                f"redeviennent à régler et passeront sur le prochain relevé de « {statement.site_name} »."
            ),
            button="Annuler le relevé",
            form_class=VoidForm,
            error_field="reason",
            noun="relevé",
        )


@admin.register(StatementStatusChange)
class StatementStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["statement", "from_status", "to_status", "at", "by", "reason"]
    list_filter = ["to_status"]
    search_fields = ["statement__number"]
    list_select_related = ["statement", "by"]


class AdjustmentForm(forms.ModelForm):
    amount_euros = forms.DecimalField(
        label="Montant (€)",
        max_digits=9,
        decimal_places=2,
        localize=True,  # « -5,50 » as a French operator types it
        help_text="Négatif pour reprendre une somme payée à tort, par exemple -10,00.",
    )

    class Meta:
        model = Adjustment
        fields = ["site", "reason"]

    def clean(self):
        data = super().clean()
        if data.get("site") and data.get("amount_euros") is not None:
            data["amount_cents"] = int((data["amount_euros"] * Decimal(100)).to_integral_value())
            try:
                services.check_adjustment(
                    site=data["site"], amount_cents=data["amount_cents"], reason=data.get("reason", "")
                )
            except DomainError as error:
                raise forms.ValidationError(error.message) from error
        return data


@admin.register(Adjustment)
class AdjustmentAdmin(admin.ModelAdmin):
    form = AdjustmentForm
    list_display = ["site", "amount_cents", "reason", "created_at", "created_by", "statement"]
    list_select_related = ["site__organisation", "created_by", "statement"]
    search_fields = ["site__organisation__name", "reason", "statement__number"]
    autocomplete_fields = ["site"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        adjustment = services.add_adjustment(
            site=form.cleaned_data["site"],
            amount_cents=form.cleaned_data["amount_cents"],
            reason=form.cleaned_data["reason"],
            by=request.user,
            request=request,
        )
        # The admin's « added » message and redirect describe the adjustment the service wrote.
        obj.pk, obj.amount_cents, obj.created_at = adjustment.pk, adjustment.amount_cents, adjustment.created_at


# --- expiry and credit notes


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
        note = CreditNote.objects.select_related("sponsor").filter(pk=pk).first()
        if note is None or not note.pdf:
            raise Http404("Cet avoir n'a pas encore de PDF.")
        record_download(request=request, document=note, organisation=note.sponsor, file_name=f"{note.number}.pdf")
        return file_response(note.pdf, f"{note.number}.pdf")


@admin.register(ExpiryAlert)
class ExpiryAlertAdmin(ReadOnlyAdmin):
    list_display = ["programme", "days_before", "valid_until", "sent_at"]
    list_filter = ["days_before"]
    list_select_related = ["programme"]


@admin.register(SubscriptionInvoice)
class SubscriptionInvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "site_name", "subscription_year", "total_cents", "issued_at"]
    list_filter = ["year", "subscription_year"]
    search_fields = ["number", "site_name", "site_siret"]
    actions = ["download"]

    @admin.action(description="Télécharger les factures choisies (PDF)")
    def download(self, request, queryset):
        ready = [i for i in queryset.select_related("site__organisation") if i.pdf]
        if not ready:
            self.message_user(request, "Aucun PDF n'est encore prêt pour ces factures.", messages.WARNING)
            return None
        for i in ready:
            record_download(request=request, document=i, organisation=i.site.organisation, file_name=f"{i.number}.pdf")
        return files_response([(i.pdf, f"{i.number}.pdf") for i in ready], "factures-abonnement.zip")


@admin.register(SubscriptionNetting)
class SubscriptionNettingAdmin(ReadOnlyAdmin):
    list_display = ["site", "enabled", "changed_at", "changed_by"]
    list_filter = ["enabled"]

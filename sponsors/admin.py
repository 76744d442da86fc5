from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.utils import timezone
from import_export.admin import ImportExportModelAdmin

from passnum.admin_helpers import ReadOnlyAdmin
from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.admin import AuditedAdminMixin
from passnum.passes.downloads import files_response
from sponsors import services
from sponsors.models import CoFunder, Order, Programme, ProgrammeAudience, SponsorInvoice, SponsorPayment


class CoFunderInline(admin.TabularInline):
    model = CoFunder
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(AuditedAdminMixin, ImportExportModelAdmin):
    list_display = ["name", "prefix", "sponsor", "face_value_cents", "passes_per_booklet", "valid_until", "status"]
    list_filter = ["status", "passes_per_booklet", "requires_beneficiary_name"]
    search_fields = ["name", "prefix", "sponsor__name"]
    list_select_related = ["sponsor"]
    autocomplete_fields = ["sponsor"]
    filter_horizontal = ["eligible_levels", "eligible_subcategories", "eligible_services"]
    inlines = [CoFunderInline]

    def save_model(self, request, obj, form, change):
        # The passes' dates move with the programme's end, in the admin's transaction.
        if change and {"valid_until", "grace_months", "grace_days"} & set(form.changed_data):
            before = Programme.objects.get(pk=obj.pk)
            dates_before = (before.valid_until, services.pass_services.expiry_date(before))
            try:
                services.move_passes_with_programme(obj, dates_before=dates_before)
            except DomainError as error:
                messages.error(request, error.message)
                obj.valid_until, obj.grace_months, obj.grace_days = (
                    before.valid_until,
                    before.grace_months,
                    before.grace_days,
                )
        super().save_model(request, obj, form, change)


@admin.register(Order)
class OrderAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "sponsor", "programme", "booklet_count", "total_cents", "status", "created_at", "paid_at"]
    list_filter = ["status"]
    search_fields = ["number", "pk", "programme__name", "programme__prefix", "programme__sponsor__name"]
    list_select_related = ["programme__sponsor", "sponsor"]
    readonly_fields = [f.name for f in Order._meta.fields if f.name not in ("id",)]
    actions = ["request_proof", "approve_proof", "launch_print_run"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Générer le bon à tirer (un carnet)")
    def request_proof(self, request, queryset):
        from passnum.passes import services as pass_services

        for order in queryset:
            try:
                pass_services.request_proof(order, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"Commande {order.number} : {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Commande {order.number} : bon à tirer demandé.")

    @admin.action(description="Valider le bon à tirer")
    def approve_proof(self, request, queryset):
        from passnum.passes import services as pass_services
        from passnum.passes.models import PrintRun

        for order in queryset:
            proof = PrintRun.objects.filter(order=order, kind=PrintRun.Kind.PROOF).first()
            try:
                if proof is None:
                    raise DomainError("Aucun bon à tirer : générez-le d'abord.")
                pass_services.approve_proof(proof, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"Commande {order.number} : {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Commande {order.number} : bon à tirer validé.")

    @admin.action(description="Lancer (ou reprendre) l'impression complète")
    def launch_print_run(self, request, queryset):
        from passnum.passes import services as pass_services

        for order in queryset:
            try:
                pass_services.launch_print_run(order, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"Commande {order.number} : {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Commande {order.number} : impression lancée.")


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label="Date du paiement", initial=timezone.localdate)
    reference = forms.CharField(label="Référence du virement ou du mandat", max_length=100)


@admin.register(SponsorInvoice)
class SponsorInvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "sponsor", "issued_at", "total_cents", "paid"]
    list_filter = ["year"]
    search_fields = ["number", "sponsor__name", "sponsor_siret"]
    list_select_related = ["sponsor", "payment"]
    actions = ["record_payment", "download"]

    @admin.display(boolean=True, description="payée")
    def paid(self, obj):
        return obj.is_paid

    @admin.action(description="Télécharger les factures choisies (PDF)")
    def download(self, request, queryset):
        ready = [invoice for invoice in queryset.select_related("sponsor") if invoice.pdf]
        if not ready:
            self.message_user(request, "Aucun PDF n'est encore prêt pour ces factures.", messages.WARNING)
            return None
        for invoice in ready:
            record_download(
                request=request, document=invoice, organisation=invoice.sponsor, file_name=f"{invoice.number}.pdf"
            )
        return files_response([(i.pdf, f"{i.number}.pdf") for i in ready], "factures.zip")

    @admin.action(description="Enregistrer le paiement")
    def record_payment(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choisissez une seule facture à la fois.", messages.ERROR)
            return None
        invoice = queryset.get()
        form = PaymentForm(request.POST if "paid_on" in request.POST else None)
        if form.is_valid():
            try:
                services.record_payment(invoice, actor=request.user, request=request, **form.cleaned_data)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Paiement de la facture {invoice.number} enregistré.")
                return redirect(request.get_full_path())
        return render(
            request,
            "sponsors/admin_record_payment.html",
            {
                **self.admin_site.each_context(request),
                "invoice": invoice,
                "form": form,
                "title": "Enregistrer le paiement",
            },
        )


@admin.register(SponsorPayment)
class SponsorPaymentAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "paid_on", "reference", "recorded_by", "recorded_at"]
    search_fields = ["invoice__number", "reference"]
    list_select_related = ["invoice", "recorded_by"]


@admin.register(ProgrammeAudience)
class ProgrammeAudienceAdmin(ReadOnlyAdmin):
    """The audiences programmes added to the national list (sponsors rename them from their
    programme's form: the code, hence the reports, stays)."""

    list_display = ["label", "code", "programme"]
    list_filter = ["programme__sponsor"]
    search_fields = ["label", "code", "programme__name", "programme__prefix"]
    list_select_related = ["programme"]

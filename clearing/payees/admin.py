"""Payee accounts in the operator's console: every version, read only; the operator verifies the
version in force after checking the RIB and the holder, on a confirmation page that shows the very
version (holder, IBAN, BIC) being verified."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from clearing.payees import services
from clearing.payees.models import PayeeAccount, PayeeStatus
from passnum.errors import DomainError
from passnum.organisations.admin import AuditedAdminMixin


@admin.register(PayeeAccount)
class PayeeAccountAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "organisation",
        "version",
        "is_current",
        "holder_name",
        "payee_kind",
        "masked_iban",
        "bic",
        "status",
        "verified_at",
        "created_at",
    ]
    list_filter = ["status", "is_current", "payee_kind"]
    search_fields = ["organisation__name", "holder_name", "iban"]
    list_select_related = ["organisation"]
    readonly_fields = [
        "organisation",
        "version",
        "is_current",
        "payee_kind",
        "holder_name",
        "iban",
        "bic",
        "status",
        "verified_at",
        "verified_by",
        "created_at",
        "created_by",
    ]
    actions = ["verify"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Marquer comme vérifié (RIB et titulaire contrôlés)")
    def verify(self, request, queryset):
        """Two steps: a page shows the exact versions (holder, IBAN, BIC) the operator is about to
        verify; confirming verifies those version ids, each refused if a newer version came in."""
        if request.POST.get("confirm") != "yes":
            accounts = list(queryset.filter(status=PayeeStatus.TO_VERIFY).select_related("organisation"))
            if not accounts:
                self.message_user(request, "Aucun compte à vérifier dans la sélection.", messages.WARNING)
                return None
            return TemplateResponse(
                request,
                "admin/payees/verify_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Vérifier ces comptes bancaires ?",
                    "accounts": accounts,
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        count = 0
        version_ids = [int(pk) for pk in request.POST.getlist("version") if pk.isdigit()]
        for account in PayeeAccount.objects.filter(pk__in=version_ids, status=PayeeStatus.TO_VERIFY):
            try:
                services.verify_payee_account(account=account, by=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"{account} : {error.message}", messages.ERROR)
                continue
            count += 1
        self.message_user(request, f"{count} compte(s) vérifié(s).", messages.SUCCESS)
        return None

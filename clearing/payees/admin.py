"""Payee accounts in the operator's console: every version, read only; the operator verifies the
version in force after checking the RIB and the holder."""

from django.contrib import admin, messages

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
        count = 0
        for account in queryset.filter(status=PayeeStatus.TO_VERIFY):
            try:
                services.verify_payee_account(account=account, by=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"{account} : {error.message}", messages.ERROR)
                continue
            count += 1
        self.message_user(request, f"{count} compte(s) vérifié(s).", messages.SUCCESS)

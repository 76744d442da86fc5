"""The operator's view of the business grant: schemes (editable, audited), applications with their
plan, documents, status log and instalments (read only: the instruction is the sponsor's)."""

from django.contrib import admin

from passnum.admin_helpers import ReadOnlyAdmin
from passnum.organisations.admin import AuditedAdminMixin
from sponsors.grants.models import (
    ApplicationDocument,
    ApplicationStatusChange,
    ExpenditureLine,
    GrantApplication,
    GrantScheme,
    Instalment,
)


@admin.register(GrantScheme)
class GrantSchemeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "sponsor", "min_amount_cents", "max_amount_cents", "headcount_limit", "is_open"]
    list_filter = ["is_open"]
    search_fields = ["name", "sponsor__name"]
    list_select_related = ["sponsor"]
    autocomplete_fields = ["sponsor"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields  # shown, never a form field (dates written by the platform included)


class LineInline(ReadOnlyInline):
    model = ExpenditureLine
    fields = ["category", "supplier", "description", "amount_cents"]


class DocumentInline(ReadOnlyInline):
    model = ApplicationDocument
    fields = ["kind", "original_name", "content_type", "size", "uploaded_at"]


class StatusChangeInline(ReadOnlyInline):
    model = ApplicationStatusChange
    fields = ["at", "from_status", "to_status", "note", "actor"]


class InstalmentInline(ReadOnlyInline):
    model = Instalment
    fields = ["invoice_number", "line", "amount_cents", "status", "refusal_reason", "payment_reference", "decided_at"]


@admin.register(GrantApplication)
class GrantApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "company",
        "scheme",
        "status",
        "requested_amount_cents",
        "granted_amount_cents",
        "submitted_at",
    ]
    list_filter = ["status", "scheme"]
    search_fields = ["pk", "project_title", "company__name", "company__siret", "naf_code"]
    list_select_related = ["company", "scheme"]
    inlines = [LineInline, DocumentInline, StatusChangeInline, InstalmentInline]


@admin.register(Instalment)
class InstalmentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "application", "amount_cents", "status", "submitted_at", "decided_at", "paid_at"]
    list_filter = ["status"]
    search_fields = ["invoice_number", "application__company__name"]
    list_select_related = ["application"]

"""The operator's console for calls for projects: everything readable, nothing edited by hand
(calls, decisions, agreements and statements change only through ``sponsors.calls.services``)."""

from django.contrib import admin

from passnum.admin_helpers import ReadOnlyAdmin
from sponsors.calls.models import Agreement, Application, Call, FunderStatement, FunderStatementLine


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["title", "funder", "status", "deadline", "max_share_bp", "min_purchase_cents", "max_purchase_cents"]
    list_filter = ["status"]
    search_fields = ["title", "funder__name"]
    list_select_related = ["funder"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "programme",
        "sponsor",
        "call",
        "status",
        "amount_cents",
        "requested_share_bp",
        "score",
        "submitted_at",
    ]
    list_filter = ["status"]
    search_fields = ["programme__name", "sponsor__name", "call__title"]
    list_select_related = ["programme", "sponsor", "call"]


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["programme", "sponsor", "funder", "call", "share_bp", "max_contribution_cents", "signed_at"]
    search_fields = ["programme__name", "sponsor__name", "funder__name"]
    list_select_related = ["programme", "sponsor", "funder", "call"]


class FunderStatementLineInline(admin.TabularInline):
    model = FunderStatementLine
    fields = ["month", "programme_name", "sponsor_name", "share_bp", "settled_cents", "amount_cents"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FunderStatement)
class FunderStatementAdmin(ReadOnlyAdmin):
    list_display = ["number", "funder_name", "year", "quarter", "settled_cents", "amount_cents", "issued_at"]
    list_filter = ["year", "quarter"]
    search_fields = ["number", "funder_name"]
    inlines = [FunderStatementLineInline]

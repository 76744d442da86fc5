from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from passnum.audit.services import record, snapshot
from passnum.organisations.models import Invitation, Membership, Organisation
from passnum.organisations.resources import OrganisationResource


class AuditedAdminMixin:
    """Every change made in the operator console is written to the audit log."""

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        record(
            f"admin.{obj._meta.model_name}.{'changed' if change else 'added'}",
            request=request,
            organisation=getattr(obj, "organisation", None),
            target=obj,
            before=before,
            after=snapshot(obj),
        )

    def delete_model(self, request, obj):
        record(f"admin.{obj._meta.model_name}.deleted", request=request, target=obj, before=snapshot(obj))
        super().delete_model(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, ImportExportModelAdmin):
    resource_classes = [OrganisationResource]
    list_display = ["name", "kind", "siret", "city", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "siret", "city"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "organisation__kind"]
    search_fields = ["user__email", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]
    list_select_related = ["user", "organisation"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "organisation",
        "role",
        "created_at",
        "expires_at",
        "accepted_at",
        "cancelled_at",
    ]
    list_filter = ["role"]
    search_fields = ["email", "organisation__name"]
    readonly_fields = ["token", "accepted_at", "accepted_by", "invited_by"]
    list_select_related = ["organisation"]

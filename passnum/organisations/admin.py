from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from passnum.audit.services import record, snapshot
from passnum.organisations.models import Invitation, Membership, Organisation
from passnum.organisations.resources import OrganisationResource


class AuditedAdminMixin:
    """Every change made in the operator console is written to the audit log: the object's form,
    its inlines (a role changed in a membership inline), bulk deletes, imports and exports.
    ``audit_exclude`` names fields never copied into the log (a password hash, a secret)."""

    audit_exclude = ()

    def _snapshot(self, obj):
        data = snapshot(obj)
        for field in self.audit_exclude:
            data.pop(field, None)
        return data

    def save_model(self, request, obj, form, change):
        before = self._snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        record(
            f"admin.{obj._meta.model_name}.{'changed' if change else 'added'}",
            request=request,
            organisation=getattr(obj, "organisation", None),
            target=obj,
            before=before,
            after=self._snapshot(obj),
        )

    def delete_model(self, request, obj):
        record(f"admin.{obj._meta.model_name}.deleted", request=request, target=obj, before=self._snapshot(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # « Delete selected »: one entry per object, like a delete from its own page.
        for obj in queryset:
            record(f"admin.{obj._meta.model_name}.deleted", request=request, target=obj, before=self._snapshot(obj))
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        before = {}
        for inline_form in formset.forms:
            instance = inline_form.instance
            if instance.pk is not None and inline_form.has_changed():
                before[instance.pk] = snapshot(type(instance).objects.get(pk=instance.pk))
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            record(f"admin.{obj._meta.model_name}.added", request=request, target=obj, after=snapshot(obj),
                   organisation=getattr(obj, "organisation", None))  # fmt: skip
        for obj, _fields in formset.changed_objects:
            record(f"admin.{obj._meta.model_name}.changed", request=request, target=obj, before=before.get(obj.pk),
                   after=snapshot(obj), organisation=getattr(obj, "organisation", None))  # fmt: skip
        for obj in formset.deleted_objects:
            record(f"admin.{obj._meta.model_name}.deleted", request=request, target=obj, before=snapshot(obj),
                   organisation=getattr(obj, "organisation", None))  # fmt: skip

    # django-import-export: the hooks exist only on its admins.
    def process_result(self, result, request):
        """One entry per file imported: who, which file, how many rows created and updated."""
        totals = {str(key): value for key, value in result.totals.items()}
        upload = request.FILES.get("import_file")  # imported at once, without the confirmation step
        record(
            f"admin.{self.model._meta.model_name}.imported",
            request=request,
            after={
                "file": request.POST.get("original_file_name") or getattr(upload, "name", ""),
                "created": totals.get("new", 0),
                "updated": totals.get("update", 0),
                "deleted": totals.get("delete", 0),
                "totals": totals,
            },
        )
        return super().process_result(result, request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        record(
            f"admin.{self.model._meta.model_name}.exported",
            request=request,
            after={"rows": queryset.count(), "format": type(file_format).__name__},
        )
        return data


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
class InvitationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # The secret of the link is never shown, nor written to the log: it is sent to the invited
    # person only.
    audit_exclude = ("token",)
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
    readonly_fields = ["accepted_at", "accepted_by", "invited_by"]
    list_select_related = ["organisation"]

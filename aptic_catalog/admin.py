from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from aptic_catalog.models import Level, ReferentialVersion, Service, Subcategory, Theme
from aptic_catalog.resources import ServiceResource
from passnum.admin_helpers import ReadOnlyAdmin
from passnum.organisations.admin import AuditedAdminMixin


@admin.register(Level)
class LevelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "title"]
    search_fields = ["title"]


@admin.register(Subcategory)
class SubcategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "title", "level"]
    list_filter = ["level"]
    search_fields = ["code", "title"]
    list_select_related = ["level"]


@admin.register(Theme)
class ThemeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "title"]
    search_fields = ["title"]


@admin.register(Service)
class ServiceAdmin(AuditedAdminMixin, ImportExportModelAdmin):
    resource_classes = [ServiceResource]
    list_display = ["code", "title", "subcategory", "theme", "is_active"]
    list_filter = ["is_active", "subcategory__level", "subcategory", "theme"]
    search_fields = ["=code", "title"]
    list_select_related = ["subcategory", "theme"]
    autocomplete_fields = ["subcategory", "theme"]

    def has_delete_permission(self, request, obj=None):
        # Passes and catalogues refer to service codes: a service is deactivated, never deleted.
        return False


@admin.register(ReferentialVersion)
class ReferentialVersionAdmin(ReadOnlyAdmin):
    list_display = ["number", "imported_at", "imported_by", "source_name", "row_count", "short_sha256"]
    search_fields = ["source_name", "sha256", "note"]
    list_select_related = ["imported_by"]
    date_hierarchy = "imported_at"

    @admin.display(description="empreinte")
    def short_sha256(self, obj):
        return obj.sha256[:12]

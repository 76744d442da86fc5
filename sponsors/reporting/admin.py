from django.contrib import admin

from sponsors.reporting.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Exports run in the background: who asked, for whom, their progress and expiry (read only)."""

    list_display = ["pk", "created_at", "kind", "file_format", "organisation", "owner", "status", "rows_done",
                    "row_count", "expires_at", "purged_at"]  # fmt: skip
    list_filter = ["status", "kind", "file_format"]
    search_fields = ["file_name", "owner__email", "organisation__name"]
    list_select_related = ["organisation", "owner"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

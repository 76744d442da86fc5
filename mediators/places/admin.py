"""Points de présence, catalogue entries and workshops in the operator's console."""

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from mediators.places.models import CatalogueItem, PointOfPresence, Workshop
from mediators.resources import PointOfPresenceResource
from passnum.organisations.admin import AuditedAdminMixin


class PointInline(admin.TabularInline):
    model = PointOfPresence
    extra = 0
    fields = ["name", "address", "postcode", "commune", "insee_code", "is_active"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class CatalogueInline(admin.TabularInline):
    model = CatalogueItem
    extra = 0
    fields = ["service", "passes_required", "format", "duration_minutes", "tariff_cents", "is_active"]
    readonly_fields = fields
    can_delete = False


@admin.register(PointOfPresence)
class PointOfPresenceAdmin(AuditedAdminMixin, ImportExportModelAdmin):
    resource_classes = [PointOfPresenceResource]
    list_display = ["name", "site", "postcode", "commune", "insee_code", "is_active", "regulated_free"]
    list_filter = ["is_active", "regulated_free", "wheelchair_accessible", "site__status"]
    search_fields = ["name", "commune", "postcode", "insee_code", "site__organisation__name"]
    list_select_related = ["site__organisation"]
    autocomplete_fields = ["site"]


@admin.register(CatalogueItem)
class CatalogueItemAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["site", "service", "passes_required", "format", "duration_minutes", "tariff_cents", "is_active"]
    list_filter = ["format", "is_active", "service__subcategory__level"]
    search_fields = ["site__organisation__name", "service__title", "=service__code"]
    list_select_related = ["site__organisation", "service"]
    autocomplete_fields = ["site", "service"]


@admin.register(Workshop)
class WorkshopAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "site", "point_of_presence", "level", "seats", "is_cancelled"]
    list_filter = ["level", "is_cancelled"]
    search_fields = ["title", "site__organisation__name", "service__title"]
    list_select_related = ["site__organisation", "point_of_presence", "service"]
    autocomplete_fields = ["site", "point_of_presence", "service"]

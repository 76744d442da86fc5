from django.contrib import admin

from passnum.admin_helpers import ReadOnlyAdmin
from passnum.territories.models import Commune, Department, TerritoryVersion


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "zone"]
    list_filter = ["zone"]
    search_fields = ["code", "name"]


@admin.register(Commune)
class CommuneAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "department", "postcodes"]
    search_fields = ["code", "folded_name", "postcodes"]


@admin.register(TerritoryVersion)
class TerritoryVersionAdmin(ReadOnlyAdmin):
    list_display = ["number", "imported_at", "source_name", "department_count", "commune_count"]

from django.contrib import admin

from passnum.admin_helpers import ReadOnlyAdmin
from passnum.numbering.models import DocumentCounter


@admin.register(DocumentCounter)
class DocumentCounterAdmin(ReadOnlyAdmin):
    list_display = ["series", "year", "organisation", "last_number"]
    list_filter = ["series", "year"]

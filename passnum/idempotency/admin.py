from django.contrib import admin

from passnum.admin_helpers import ReadOnlyAdmin
from passnum.idempotency.models import StoredAnswer


@admin.register(StoredAnswer)
class StoredAnswerAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "scope", "key", "organisation", "status_code", "subject"]
    list_filter = ["scope", "status_code"]
    search_fields = ["key", "subject", "organisation__name"]
    list_select_related = ["organisation"]

from django.contrib import admin

from passnum.admin_helpers import ReadOnlyAdmin
from passnum.audit.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_email", "organisation_name", "action", "target_repr", "ip_address"]
    list_filter = ["action", "created_at"]
    search_fields = ["actor_email", "organisation_name", "action", "target_repr", "target_id"]
    date_hierarchy = "created_at"
    list_per_page = 50

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from passnum.accounts.models import User
from passnum.audit.services import record
from passnum.organisations.admin import AuditedAdminMixin
from passnum.organisations.models import Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fk_name = "user"
    autocomplete_fields = ["organisation"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    audit_exclude = ("password",)  # the hash never goes to the log; a change is its own entry
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name")}),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def log_change(self, request, obj, message):
        # Django's password page ends here after saving (its view stays Django's own, so the route
        # remains the library's).
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "auth_user_password_change":
            record("admin.user.password_changed", request=request, target=obj)
        return super().log_change(request, obj, message)

"""Operator console. Beneficiaries hold personal data: every view of them by staff is written to
the audit log, and nobody edits them by hand."""

from django.contrib import admin

from beneficiaries.models import Beneficiary, HandOver, LossDeclaration
from passnum.admin_helpers import ReadOnlyAdmin
from passnum.audit.services import record


@admin.register(Beneficiary)
class BeneficiaryAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "created_by", "programme", "age_band", "commune", "contact_consent", "purged_at"]
    list_filter = ["age_band", "contact_consent", "programme"]
    search_fields = ["commune", "email", "phone", "name"]
    list_select_related = ["created_by", "programme"]

    # Hooks below the views (the views themselves stay Django's, for the route checks).
    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # That a search was made, never its terms: an e-mail, a phone or a name typed here would
        # otherwise outlive the purge in the append-only log. Filters name no one.
        filters = {key: value[:100] for key, value in request.GET.items() if key != "q"}
        searched = bool(request.GET.get("q", "").strip())
        record("beneficiary.viewed", request=request, after={"view": "list", "searched": searched, "filters": filters})
        return changelist

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            record(
                "beneficiary.viewed",
                request=request,
                organisation=obj.created_by,
                target=obj,
                after={"view": "detail"},
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(HandOver)
class HandOverAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "booklet", "organisation", "at", "is_exception", "undone_at"]
    list_filter = ["is_exception", "organisation"]
    search_fields = ["booklet__serial", "organisation__name"]
    list_select_related = ["booklet", "organisation"]
    exclude = ["beneficiary"]


@admin.register(LossDeclaration)
class LossDeclarationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "booklet", "organisation", "kind", "at", "cancelled_passes", "cancelled_value_cents"]
    list_filter = ["kind"]
    search_fields = ["booklet__serial", "organisation__name"]
    list_select_related = ["booklet", "organisation"]

"""Redemptions, refused scans and idempotency keys in the operator's console, read only: a
redemption is written, undone and settled only through the services.
"""

from django.contrib import admin

from mediators.redemption.models import RedeemedPass, Redemption, RefusedScan
from passnum.admin_helpers import ReadOnlyAdmin
from passnum.passes import codes as pass_codes


class RedeemedPassInline(admin.TabularInline):
    model = RedeemedPass
    extra = 0
    fields = ["pass_code", "face_value_cents", "is_live"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pass_ref")

    @admin.display(description="pass")
    def pass_code(self, obj):
        return pass_codes.grouped(obj.pass_ref.code)


class RedemptionStatusFilter(admin.SimpleListFilter):
    title = "état"
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return [("live", "En vigueur"), ("undone", "Annulé"), ("settled", "Réglé sur un relevé")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(undone_at__isnull=True)
        if self.value() == "undone":
            return queryset.filter(undone_at__isnull=False)
        if self.value() == "settled":
            return queryset.filter(settled_at__isnull=False)
        return queryset


class RedemptionMonthFilter(admin.SimpleListFilter):
    """The months that have redemptions (the last 24), as « 2025-03 »."""

    title = "mois"
    parameter_name = "mois"

    def lookups(self, request, model_admin):
        months = Redemption.objects.datetimes("redeemed_at", "month", order="DESC")[:24]
        return [(f"{month:%Y-%m}", f"{month:%m/%Y}") for month in months]

    def queryset(self, request, queryset):
        value = self.value() or ""
        year, _, month = value.partition("-")
        if not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
            return queryset
        return queryset.filter(redeemed_at__year=int(year), redeemed_at__month=int(month))


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = [
        "redeemed_at",
        "site",
        "point_of_presence",
        "service",
        "booklet",
        "pass_count",
        "amount",
        "status",
    ]
    list_filter = [RedemptionStatusFilter, RedemptionMonthFilter, "programme"]
    search_fields = ["booklet__serial", "site__organisation__name"]
    search_help_text = "Numéro de carnet, code d'un pass (avec ou sans tirets) ou nom de la structure."
    list_select_related = ["site__organisation", "point_of_presence", "service", "booklet"]
    inlines = [RedeemedPassInline]
    fields = [
        "id",
        "site",
        "point_of_presence",
        "service",
        "programme",
        "booklet",
        "pass_count",
        "amount_cents",
        "beneficiary_share_cents",
        "scanned_at",
        "redeemed_at",
        "redeemed_by",
        "undone_at",
        "undone_by",
        "settled_at",
    ]

    def get_search_results(self, request, queryset, search_term):
        """A pass's code is found however it is typed (grouped, lower case, from its QR URL)."""
        results, duplicates = super().get_search_results(request, queryset, search_term)
        parsed = pass_codes.parse(search_term) if search_term else None
        if parsed is not None and parsed.ok:
            results |= queryset.filter(lines__pass_ref__code=parsed.code)
            duplicates = True
        return results, duplicates

    @admin.display(description="montant", ordering="amount_cents")
    def amount(self, obj):
        return obj.amount_display

    @admin.display(description="état")
    def status(self, obj):
        if obj.undone_at is not None:
            return "annulé"
        if obj.settled_at is not None:
            return "réglé"
        return "en vigueur"


@admin.register(RefusedScan)
class RefusedScanAdmin(ReadOnlyAdmin):
    list_display = ["at", "organisation", "entered", "reason", "message", "point_of_presence", "service", "user"]
    list_filter = ["reason"]
    search_fields = ["entered", "organisation__name"]
    list_select_related = ["organisation", "point_of_presence", "service", "user"]

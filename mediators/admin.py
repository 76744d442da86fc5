"""The operator's review of sites: application queue, documents, score, decisions with a reason
(through a confirmation page), payee verification, import and export."""

from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin

from mediators import selectors, services
from mediators.forms import DecisionForm
from mediators.models import (
    Answer,
    CatalogueItem,
    Choice,
    PayeeAccount,
    PayeeStatus,
    PointOfPresence,
    Question,
    RedeemedPass,
    Redemption,
    RedemptionKey,
    RefusedScan,
    SchemeSettings,
    Site,
    SiteStatusChange,
    Subscription,
    SupportingDocument,
    Workshop,
)
from mediators.resources import PointOfPresenceResource, SiteResource
from passnum.admin_helpers import ReadOnlyAdmin
from passnum.errors import DomainError
from passnum.organisations.admin import AuditedAdminMixin
from passnum.organisations.tenancy import public_path
from passnum.passes import codes as pass_codes


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


class DocumentInline(admin.TabularInline):
    model = SupportingDocument
    extra = 0
    fields = ["kind", "document_link", "content_type", "size", "uploaded_at"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description="fichier")
    def document_link(self, obj):
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:mediators_supportingdocument_download", args=[obj.pk]),
            obj.original_name,
        )


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["question", "choice", "points"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description="points")
    def points(self, obj):
        return obj.choice.points


class StatusChangeInline(admin.TabularInline):
    model = SiteStatusChange
    extra = 0
    fields = ["created_at", "from_status", "to_status", "reason", "actor"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _decision_action(decision, label):
    def action(modeladmin, request, queryset):
        return modeladmin.decision_view(request, queryset, decision, label)

    action.__name__ = f"decide_{decision}"
    return admin.action(description=label)(action)


@admin.register(Site)
class SiteAdmin(AuditedAdminMixin, ImportExportModelAdmin):
    resource_classes = [SiteResource]
    list_display = [
        "__str__",
        "siret",
        "status",
        "legal_form",
        "sector",
        "questionnaire_score",
        "submitted_at",
        "point_count",
    ]
    list_filter = ["status", "sector", "legal_form"]
    search_fields = ["organisation__name", "organisation__siret", "organisation__city"]
    list_select_related = ["organisation"]
    readonly_fields = [
        "organisation",
        "status",
        "decision_reason",
        "status_changed_at",
        "submitted_at",
        "qualified_at",
        "questionnaire_score",
        "charter_version",
        "charter_accepted_at",
        "charter_accepted_by",
        "missing_steps",
    ]
    fields = ["organisation", "legal_form", "sector", "presentation", "website", *readonly_fields[1:]]
    inlines = [AnswerInline, PointInline, CatalogueInline, DocumentInline, StatusChangeInline]
    actions = [
        _decision_action("qualify", "Qualifier les structures sélectionnées"),
        _decision_action("request_changes", "Demander des compléments"),
        _decision_action("reject", "Refuser la candidature"),
        _decision_action("suspend", "Suspendre la qualification"),
        _decision_action("disqualify", "Retirer la qualification"),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(point_total=Count("points"))

    def has_add_permission(self, request):
        return False  # a site is created by its sign-up or by an import

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="SIRET", ordering="organisation__siret")
    def siret(self, obj):
        return obj.organisation.siret

    @admin.display(description="lieux", ordering="point_total")
    def point_count(self, obj):
        return obj.point_total

    @admin.display(description="ce qui manque au dossier")
    def missing_steps(self, obj):
        steps = selectors.missing_steps(obj)
        return "; ".join(step.label for step in steps) if steps else "rien : dossier complet"

    def decision_view(self, request, queryset, decision, label):
        """Intermediate page: the reason the site will see, then the decision on each site."""
        form = DecisionForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            done = 0
            for site in queryset.select_related("organisation"):
                try:
                    services.decide(
                        site=site,
                        decision=decision,
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                        request=request,
                    )
                except DomainError as error:
                    self.message_user(request, f"{site} : {error.message}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, f"{label} : {done} structure(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "mediators/admin/decision.html",
            {
                **self.admin_site.each_context(request),
                "title": label,
                "sites": queryset.select_related("organisation"),
                "form": form,
                "action": request.POST.get("action"),
                "opts": self.model._meta,
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            },
        )


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


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 1


@admin.register(Question)
class QuestionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["text", "category", "rank", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["text"]
    inlines = [ChoiceInline]


@admin.register(SchemeSettings)
class SchemeSettingsAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "pass_mark", "charter_version", "subscription_amount_cents", "subscription_grace_days"]

    def has_add_permission(self, request):
        return not SchemeSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupportingDocument)
class SupportingDocumentAdmin(ReadOnlyAdmin):
    list_display = ["site", "kind", "original_name", "content_type", "size", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["site__organisation__name", "original_name"]
    list_select_related = ["site__organisation"]

    def get_urls(self):
        return [
            public_path(
                "<int:pk>/telecharger/",
                self.admin_site.admin_view(self.download),
                name="mediators_supportingdocument_download",
                reason="console de l'opérateur : réservée à son personnel (admin_view), qui voit toutes les structures",
            ),
            *super().get_urls(),
        ]

    def download(self, request, pk):
        from django.http import Http404

        from mediators.views import document_response
        from passnum.audit.services import record

        document = SupportingDocument.objects.select_related("site__organisation").filter(pk=pk).first()
        if document is None:
            raise Http404("Pièce introuvable.")
        record("admin.document.viewed", request=request, organisation=document.site.organisation, target=document)
        return document_response(document)


@admin.register(PayeeAccount)
class PayeeAccountAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["site", "holder_name", "payee_kind", "masked_iban", "bic", "status", "verified_at", "updated_at"]
    list_filter = ["status", "payee_kind"]
    search_fields = ["site__organisation__name", "holder_name", "iban"]
    list_select_related = ["site__organisation"]
    readonly_fields = ["site", "payee_kind", "holder_name", "iban", "bic", "status", "verified_at", "verified_by"]
    actions = ["verify"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Marquer comme vérifié (RIB et titulaire contrôlés)")
    def verify(self, request, queryset):
        count = 0
        for account in queryset.filter(status=PayeeStatus.TO_VERIFY):
            services.verify_payee_account(account=account, by=request.user, request=request)
            count += 1
        self.message_user(request, f"{count} compte(s) vérifié(s).", messages.SUCCESS)


@admin.register(Subscription)
class SubscriptionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["site", "year", "amount_cents", "due_date", "status", "paid_at", "reminder_sent_at"]
    list_filter = ["status", "year"]
    search_fields = ["site__organisation__name"]
    list_select_related = ["site__organisation"]
    autocomplete_fields = ["site"]
    actions = ["mark_paid"]

    @admin.action(description="Marquer comme payé")
    def mark_paid(self, request, queryset):
        for subscription in queryset:
            services.mark_subscription_paid(subscription=subscription, by=request.user, request=request)
        self.message_user(request, "Abonnement(s) marqué(s) comme payé(s).", messages.SUCCESS)


@admin.register(Workshop)
class WorkshopAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "site", "point_of_presence", "level", "seats", "is_cancelled"]
    list_filter = ["level", "is_cancelled"]
    search_fields = ["title", "site__organisation__name", "service__title"]
    list_select_related = ["site__organisation", "point_of_presence", "service"]
    autocomplete_fields = ["site", "point_of_presence", "service"]


@admin.register(SiteStatusChange)
class SiteStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "site", "from_status", "to_status", "actor", "reason"]
    list_filter = ["to_status"]
    search_fields = ["site__organisation__name", "reason"]
    list_select_related = ["site__organisation", "actor"]


# --- redemptions (DESIGN §5) -------------------------------------------------------------------
#
# Read-only: a redemption is written, undone and settled only through mediators.services (and the
# clearing), never by hand in the console; refused scans and idempotency keys are journals.


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


@admin.register(RedemptionKey)
class RedemptionKeyAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organisation", "key", "status_code", "redemption"]
    list_filter = ["status_code"]
    search_fields = ["key", "organisation__name"]
    list_select_related = ["organisation", "redemption"]

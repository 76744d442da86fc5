"""The operator's review of sites: application queue, documents, score, decisions with a reason
(through a confirmation page), payee verification, subscriptions, import and export.
"""

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin

from mediators.places.admin import CatalogueInline, PointInline
from mediators.qualification import selectors, services
from mediators.qualification.forms import DecisionForm
from mediators.qualification.models import (
    Answer,
    Choice,
    Question,
    SchemeSettings,
    Site,
    SiteStatusChange,
    Subscription,
    SupportingDocument,
)
from mediators.resources import SiteResource
from passnum.admin_helpers import ReadOnlyAdmin
from passnum.errors import DomainError
from passnum.organisations.admin import AuditedAdminMixin
from passnum.organisations.tenancy import public_path


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
    # Like the site's own form: an address typed without scheme is taken as https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
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

        from mediators.qualification.views import document_response

        document = SupportingDocument.objects.select_related("site__organisation").filter(pk=pk).first()
        if document is None:
            raise Http404("Pièce introuvable.")
        return document_response(request, document)  # audited there


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


@admin.register(SiteStatusChange)
class SiteStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "site", "from_status", "to_status", "actor", "reason"]
    list_filter = ["to_status"]
    search_fields = ["site__organisation__name", "reason"]
    list_select_related = ["site__organisation", "actor"]

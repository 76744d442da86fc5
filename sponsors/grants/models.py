"""The business grant « Pass numérique entreprises »: a sponsor's grant scheme (it also instructs
the applications), companies' applications with their expenditure plan and documents, the
status log, and the instalments paid on invoices.

An application belongs to two organisations: the company that files it and the sponsor whose
scheme it is filed with. Both read it through ``for_organisation`` (one filter on either side);
anyone else does not find it (404).
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from passnum.organisations.models import Organisation
from passnum.organisations.tenancy import TenantQuerySet
from sponsors.grants.enums import (
    ApplicationStatus,
    DocumentKind,
    ExpenditureCategory,
    InstalmentStatus,
)


def default_departments():
    return ["972"]


def default_required_documents():
    return [
        DocumentKind.PROJECT_FILE,
        DocumentKind.COMPANY_REGISTRATION,
        DocumentKind.QUOTES,
        DocumentKind.BANK_DETAILS,
        DocumentKind.SIGNED_LETTER,
    ]


class GrantScheme(models.Model):
    """A sponsor's grant scheme and its rules (amounts in cents, shares in basis points)."""

    sponsor = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="grant_schemes", verbose_name="commanditaire"
    )
    name = models.CharField("nom du dispositif", max_length=200)
    min_amount_cents = models.PositiveIntegerField("montant minimal (centimes)", default=800_000)
    max_amount_cents = models.PositiveIntegerField("montant maximal (centimes)", default=1_000_000)
    # « Fewer than 30 employees »: a company with this headcount or more is not eligible.
    headcount_limit = models.PositiveIntegerField(
        "effectif à partir duquel l'entreprise n'est pas éligible", default=30
    )
    equipment_cap_bp = models.PositiveIntegerField(
        "part maximale du matériel (points de base : 2500 = 25 %)", default=2500
    )
    max_duration_months = models.PositiveIntegerField("durée maximale du projet (mois)", default=24)
    renewal_after_months = models.PositiveIntegerField("renouvellement possible après (mois)", default=24)
    departments = models.JSONField("départements éligibles", default=default_departments)
    required_documents = models.JSONField("pièces obligatoires", default=default_required_documents)
    president_title = models.CharField(
        "destinataire de la lettre de demande",
        max_length=200,
        default="Monsieur le Président du Conseil exécutif de Martinique",
    )
    contact_service = models.CharField("service instructeur", max_length=200, blank=True)
    contact_email = models.EmailField("e-mail du service instructeur", blank=True)
    contact_phone = models.CharField("téléphone du service instructeur", max_length=30, blank=True)
    contact_address = models.TextField("adresse du service instructeur", blank=True)
    is_open = models.BooleanField("ouvert aux demandes", default=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    tenant_field = "sponsor"
    objects = models.Manager.from_queryset(type("GrantSchemeQuerySet", (TenantQuerySet, models.QuerySet), {}))()

    class Meta:
        verbose_name = "dispositif de subvention"
        verbose_name_plural = "dispositifs de subvention"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount_cents__lte=models.F("max_amount_cents")), name="grant_scheme_range_ordered"
            ),
            models.CheckConstraint(condition=Q(equipment_cap_bp__lte=10000), name="grant_scheme_cap_at_most_100"),
        ]

    def __str__(self):
        return self.name


class BothSidesQuerySet(TenantQuerySet, models.QuerySet):
    """Read by the company that filed the application, or by the sponsor that instructs it."""

    company_path = "company"
    sponsor_path = "scheme__sponsor"
    status_path = "status"

    def for_organisation(self, organisation):
        if organisation is None:
            return self.none()
        # A draft is the company's own business until it is filed: the sponsor does not find it.
        filed = ~Q(**{self.status_path: ApplicationStatus.DRAFT})
        return self.filter(Q(**{self.company_path: organisation}) | (Q(**{self.sponsor_path: organisation}) & filed))


class ApplicationQuerySet(BothSidesQuerySet):
    pass


class GrantApplication(models.Model):
    """A company's application to a scheme: a draft until submitted, then instructed."""

    scheme = models.ForeignKey(
        GrantScheme, on_delete=models.PROTECT, related_name="applications", verbose_name="dispositif"
    )
    company = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="grant_applications", verbose_name="entreprise"
    )
    status = models.CharField("état", max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT)
    # Given when the application is filed (gapless, PNE-2026-000012); a draft has none.
    number = models.CharField("numéro", max_length=20, blank=True, default="")
    # Company facts
    headcount = models.PositiveIntegerField("effectif (salariés)", null=True, blank=True)
    naf_code = models.CharField("code NAF (APE)", max_length=6, blank=True)
    turnover_cents = models.BigIntegerField("chiffre d'affaires (centimes)", null=True, blank=True)
    commune_code = models.CharField("commune du siège (code INSEE)", max_length=5, blank=True)
    # The project
    project_title = models.CharField("intitulé du projet", max_length=200, blank=True)
    project_description = models.TextField("description du projet", blank=True)
    strategic_stakes = models.TextField("enjeux stratégiques", blank=True)
    expected_growth = models.TextField("croissance attendue", blank=True)
    start_date = models.DateField("début prévu", null=True, blank=True)
    end_date = models.DateField("fin prévue", null=True, blank=True)
    requested_amount_cents = models.PositiveIntegerField("montant demandé (centimes)", null=True, blank=True)
    # A renewal links to the first granted application of the company in the scheme.
    renewal_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renewals", verbose_name="renouvelle"
    )
    # Instruction
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="instructeur",
    )
    info_request = models.TextField("compléments demandés", blank=True)
    company_answer = models.TextField("réponse de l'entreprise", blank=True)
    granted_amount_cents = models.PositiveIntegerField("montant accordé (centimes)", null=True, blank=True)
    decision_reason = models.TextField("motif de la décision", blank=True)
    submitted_at = models.DateTimeField("déposé le", null=True, blank=True)
    decided_at = models.DateTimeField("décidé le", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="créé par"
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    tenant_field = "company"
    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "demande de subvention"
        verbose_name_plural = "demandes de subvention"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ApplicationStatus.values), name="grant_application_status"),
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="grant_application_number_unique"),
            models.CheckConstraint(
                condition=Q(status=ApplicationStatus.DRAFT) | ~Q(number=""), name="grant_application_filed_has_number"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="grant_application_end_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status=ApplicationStatus.GRANTED) | Q(granted_amount_cents__gt=0),
                name="grant_application_granted_has_amount",
            ),
        ]

    def __str__(self):
        return f"Demande n° {self.pk} — {self.project_title or 'sans titre'}"

    @property
    def reference(self):
        return self.number or f"brouillon n° {self.pk}"

    @property
    def is_editable(self):
        return self.status == ApplicationStatus.DRAFT


class ExpenditureQuerySet(BothSidesQuerySet):
    company_path = "application__company"
    sponsor_path = "application__scheme__sponsor"
    status_path = "application__status"


class ExpenditureLine(models.Model):
    """One line of the expenditure plan."""

    application = models.ForeignKey(
        GrantApplication, on_delete=models.CASCADE, related_name="lines", verbose_name="demande"
    )
    category = models.CharField("catégorie", max_length=20, choices=ExpenditureCategory.choices)
    supplier = models.CharField("prestataire ou fournisseur", max_length=200)
    description = models.CharField("objet de la dépense", max_length=255, blank=True)
    amount_cents = models.PositiveIntegerField("montant HT (centimes)")

    tenant_field = "application__company"
    objects = ExpenditureQuerySet.as_manager()

    class Meta:
        verbose_name = "ligne de dépense"
        verbose_name_plural = "lignes de dépense"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="expenditure_line_positive"),
            models.CheckConstraint(
                condition=Q(category__in=ExpenditureCategory.values), name="expenditure_line_category"
            ),
        ]

    def __str__(self):
        return f"{self.get_category_display()} — {self.supplier}"


class ApplicationDocument(models.Model):
    """A document of the application (type checked from the content: PDF, JPEG or PNG)."""

    application = models.ForeignKey(
        GrantApplication, on_delete=models.CASCADE, related_name="documents", verbose_name="demande"
    )
    kind = models.CharField("pièce", max_length=30, choices=DocumentKind.choices)
    file = models.FileField(upload_to="grants/documents/%Y/%m/")
    original_name = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField("envoyée le", auto_now_add=True)

    tenant_field = "application__company"
    objects = ExpenditureQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce d'une demande"
        verbose_name_plural = "pièces des demandes"
        ordering = ["kind", "-uploaded_at"]

    def __str__(self):
        return self.original_name


class ApplicationStatusChange(models.Model):
    """The log of an application's states (append-only: never edited)."""

    application = models.ForeignKey(
        GrantApplication, on_delete=models.CASCADE, related_name="status_changes", verbose_name="demande"
    )
    from_status = models.CharField("de", max_length=20, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField("vers", max_length=20, choices=ApplicationStatus.choices)
    note = models.TextField("motif ou message", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "changement d'état d'une demande"
        verbose_name_plural = "changements d'état des demandes"
        ordering = ["-at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="grant_status_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.application_id} : {self.from_status or '—'} → {self.to_status}"


class Instalment(models.Model):
    """An instalment claimed on an invoice against one line of the plan, accepted or refused by
    the instructor. An accepted one waits to be paid (``payment_reference`` tells the transfer)."""

    application = models.ForeignKey(
        GrantApplication, on_delete=models.PROTECT, related_name="instalments", verbose_name="demande"
    )
    line = models.ForeignKey(
        ExpenditureLine, on_delete=models.PROTECT, related_name="instalments", verbose_name="ligne du plan"
    )
    invoice_number = models.CharField("numéro de la facture", max_length=60)
    amount_cents = models.PositiveIntegerField("montant demandé (centimes)")
    file = models.FileField(upload_to="grants/invoices/%Y/%m/")
    original_name = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    status = models.CharField(
        "état", max_length=20, choices=InstalmentStatus.choices, default=InstalmentStatus.SUBMITTED
    )
    refusal_reason = models.TextField("motif du refus", blank=True)
    payment_reference = models.CharField("référence du virement", max_length=100, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField("envoyée le", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    paid_at = models.DateTimeField("payée le", null=True, blank=True)

    tenant_field = "application__company"
    objects = ExpenditureQuerySet.as_manager()

    class Meta:
        verbose_name = "versement"
        verbose_name_plural = "versements"
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="instalment_positive"),
            models.CheckConstraint(condition=Q(status__in=InstalmentStatus.values), name="instalment_status"),
        ]

    def __str__(self):
        return f"Facture {self.invoice_number}"

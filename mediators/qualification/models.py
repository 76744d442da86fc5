"""A mediation site's qualification: the ``Site`` (the mediation side of an organisation of kind
SITE), its status history, the operator's scored questionnaire, the charter, supporting
documents, the payee account and the yearly subscription.

The guided application is filed on the ``Site``; the operator's decisions change its ``status``
and are kept in ``SiteStatusChange`` (append only).
"""

import secrets
from pathlib import PurePath

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from clearing.money import euros
from passnum.audiences import Audience  # noqa: F401 - the sites' publics are the national codes
from passnum.organisations.tenancy import TenantQuerySet


class QualificationStatus(models.TextChoices):
    DRAFT = "draft", "Dossier en cours"
    SUBMITTED = "submitted", "Dossier déposé, en cours d'examen"
    CHANGES_REQUESTED = "changes_requested", "Compléments demandés"
    QUALIFIED = "qualified", "Structure qualifiée"
    REJECTED = "rejected", "Candidature refusée"
    SUSPENDED = "suspended", "Qualification suspendue"
    DISQUALIFIED = "disqualified", "Qualification retirée"


class LegalForm(models.TextChoices):
    ASSOCIATION = "association", "Association"
    COMMUNE = "commune", "Commune"
    CCAS = "ccas", "CCAS ou CIAS"
    EPCI = "epci", "Intercommunalité (EPCI)"
    DEPARTMENT = "department", "Département"
    REGION = "region", "Région"
    PUBLIC_BODY = "public_body", "Autre établissement public"
    COMPANY = "company", "Entreprise (dont ESS)"
    COOPERATIVE = "cooperative", "Coopérative (SCIC, SCOP)"
    OTHER = "other", "Autre"


class Sector(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Privé"


class SiteOwnedQuerySet(TenantQuerySet, models.QuerySet):
    """Queryset of the models owned by a site (``tenant_field = "site__organisation"``)."""


class SiteQuerySet(TenantQuerySet, models.QuerySet):
    def visible_to_public(self):
        """Qualified sites of active organisations: the finder and the open data show only these."""
        return self.filter(status=QualificationStatus.QUALIFIED, organisation__is_active=True)


class Site(models.Model):
    """The mediation side of an organisation of kind SITE, and its qualification application."""

    organisation = models.OneToOneField(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="mediation_site",
        verbose_name="organisation",
    )
    legal_form = models.CharField("forme juridique", max_length=20, choices=LegalForm.choices, blank=True)
    sector = models.CharField("secteur", max_length=10, choices=Sector.choices, blank=True)
    presentation = models.CharField(
        "présentation courte", max_length=280, blank=True, help_text="280 caractères au plus, visibles du public."
    )
    website = models.URLField("site internet", blank=True)
    status = models.CharField(
        "état de la qualification",
        max_length=20,
        choices=QualificationStatus.choices,
        default=QualificationStatus.DRAFT,
        db_index=True,
    )
    decision_reason = models.TextField("motif de la dernière décision", blank=True)
    status_changed_at = models.DateTimeField("état changé le", default=timezone.now)
    submitted_at = models.DateTimeField("déposé le", null=True, blank=True)
    qualified_at = models.DateTimeField("qualifiée le", null=True, blank=True)
    questionnaire_score = models.PositiveIntegerField("score au questionnaire", null=True, blank=True)
    charter_version = models.CharField("version de la charte acceptée", max_length=20, blank=True)
    charter_accepted_at = models.DateTimeField("charte acceptée le", null=True, blank=True)
    charter_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="charte acceptée par",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    tenant_field = "organisation"
    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = "structure de médiation"
        verbose_name_plural = "structures de médiation"
        ordering = ["organisation__name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=QualificationStatus.values), name="site_status_valid"),
        ]

    def __str__(self):
        return self.organisation.name if self.organisation_id else "Structure"

    @property
    def is_public_sector(self):
        return self.sector == Sector.PUBLIC

    @property
    def is_editable_by_site(self):
        """The application can be changed by the site while it is not under review."""
        return self.status != QualificationStatus.SUBMITTED


class SiteAudience(models.Model):
    """A public the site addresses specifically (the finder filters on it)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="audience_links", verbose_name="structure")
    audience = models.CharField("public", max_length=20, choices=Audience.choices)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "public accueilli"
        verbose_name_plural = "publics accueillis"
        constraints = [models.UniqueConstraint(fields=["site", "audience"], name="site_audience_unique")]

    def __str__(self):
        return self.get_audience_display()


class SiteStatusChange(models.Model):
    """The history of a site's qualification: every change of status, by whom and why."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="status_changes", verbose_name="structure")
    from_status = models.CharField("ancien état", max_length=20, choices=QualificationStatus.choices, blank=True)
    to_status = models.CharField("nouvel état", max_length=20, choices=QualificationStatus.choices)
    reason = models.TextField("motif", blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )
    created_at = models.DateTimeField("date", default=timezone.now)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "changement d'état"
        verbose_name_plural = "historique de la qualification"
        ordering = ["-created_at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="site_status_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.site} : {self.get_to_status_display()}"


class QuestionCategory(models.TextChoices):
    EXPERIENCE = "experience", "Expérience"
    STAFF = "staff", "Équipe formée"
    EQUIPMENT = "equipment", "Équipement"
    AUDIENCES = "audiences", "Publics accueillis"


class Question(models.Model):
    """A question of the qualification questionnaire, set by the operator."""

    category = models.CharField("thème", max_length=20, choices=QuestionCategory.choices)
    text = models.CharField("question", max_length=300)
    help_text = models.CharField("aide", max_length=300, blank=True)
    rank = models.PositiveSmallIntegerField("ordre", default=0)
    is_active = models.BooleanField("posée", default=True)

    class Meta:
        verbose_name = "question du questionnaire"
        verbose_name_plural = "questions du questionnaire"
        ordering = ["rank", "pk"]

    def __str__(self):
        return self.text


class Choice(models.Model):
    """A possible answer to a question, worth some points."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices", verbose_name="question")
    label = models.CharField("réponse", max_length=200)
    points = models.PositiveSmallIntegerField("points", default=0)
    rank = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "réponse possible"
        verbose_name_plural = "réponses possibles"
        ordering = ["question", "rank", "pk"]

    def __str__(self):
        return f"{self.label} ({self.points} pt)"


class Answer(models.Model):
    """A site's answer to one question of the questionnaire."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="answers", verbose_name="structure")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+", verbose_name="question")
    choice = models.ForeignKey(Choice, on_delete=models.PROTECT, related_name="+", verbose_name="réponse")
    answered_at = models.DateTimeField("répondu le", auto_now=True)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "réponse au questionnaire"
        verbose_name_plural = "réponses au questionnaire"
        ordering = ["question__rank", "question_id"]
        constraints = [models.UniqueConstraint(fields=["site", "question"], name="answer_unique_per_question")]

    def __str__(self):
        return f"{self.question} → {self.choice.label}"


class SchemeSettings(models.Model):
    """The operator's settings of qualification and subscription (a single row, ``load()``)."""

    pass_mark = models.PositiveSmallIntegerField(
        "score minimal au questionnaire", default=10, help_text="En dessous, le dossier ne peut pas être déposé."
    )
    charter_version = models.CharField("version de la charte", max_length=20, default="2026-1")
    charter_text = models.TextField(
        "texte de la charte",
        default=(
            "La structure s'engage à accueillir toute personne munie d'un Pass numérique, sans discrimination ; "
            "à ne rien lui demander de plus que les pass prévus au catalogue pour un service régulé ; à proposer "
            "des accompagnements réalisés par des personnes formées à la médiation numérique ; à protéger les "
            "données personnelles des personnes accompagnées et à ne jamais faire à leur place sans leur accord ; "
            "à tenir à jour ses lieux, horaires, catalogue et ateliers ; à n'encaisser un pass qu'après le "
            "service rendu, et à accepter les contrôles de l'opérateur."
        ),
    )
    subscription_amount_cents = models.PositiveIntegerField("abonnement annuel HT (centimes)", default=7700)
    subscription_due_days = models.PositiveSmallIntegerField("délai de paiement de l'abonnement (jours)", default=30)
    subscription_grace_days = models.PositiveSmallIntegerField(
        "délai de grâce après l'échéance (jours)",
        default=30,
        help_text="Passé ce délai, un abonnement impayé suspend l'encaissement des pass.",
    )

    class Meta:
        verbose_name = "réglages de la qualification"
        verbose_name_plural = "réglages de la qualification"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="scheme_settings_single_row"),
            models.CheckConstraint(
                condition=models.Q(subscription_amount_cents__gte=0), name="scheme_subscription_cents_positive"
            ),
        ]

    def __str__(self):
        return "Réglages de la qualification"

    @classmethod
    def load(cls):
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class DocumentKind(models.TextChoices):
    STATUTES = "statutes", "Statuts ou délibération"
    INSURANCE = "insurance", "Attestation d'assurance"
    BANK = "bank", "Relevé d'identité bancaire (RIB)"
    TRAINING = "training", "Attestation de formation de l'équipe"
    OTHER = "other", "Autre pièce"


def document_upload_to(instance, filename):
    """An unguessable name: the original name is kept in the database, never in the path."""
    suffix = PurePath(filename).suffix.lower()[:5]
    return f"mediators/documents/{secrets.token_urlsafe(24)}{suffix}"


class SupportingDocument(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="documents", verbose_name="structure")
    kind = models.CharField("type de pièce", max_length=20, choices=DocumentKind.choices)
    file = models.FileField("fichier", upload_to=document_upload_to, max_length=200)
    original_name = models.CharField("nom du fichier envoyé", max_length=255)
    content_type = models.CharField("format", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    uploaded_at = models.DateTimeField("envoyé le", auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce justificative"
        verbose_name_plural = "pièces justificatives"
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} : {self.original_name}"


class SubscriptionStatus(models.TextChoices):
    DUE = "due", "À payer"
    PAID = "paid", "Payé"
    WAIVED = "waived", "Offert"


class Subscription(models.Model):
    """The yearly subscription of a site (77 € HT by default)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="subscriptions", verbose_name="structure")
    year = models.PositiveSmallIntegerField("année")
    amount_cents = models.PositiveIntegerField("montant HT (centimes)")
    due_date = models.DateField("échéance")
    status = models.CharField("état", max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.DUE)
    paid_at = models.DateTimeField("payé le", null=True, blank=True)
    reminder_sent_at = models.DateTimeField("relance envoyée le", null=True, blank=True)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "abonnement annuel"
        verbose_name_plural = "abonnements annuels"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["site", "year"], name="subscription_unique_year"),
            models.CheckConstraint(condition=models.Q(amount_cents__gte=0), name="subscription_amount_cents_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=SubscriptionStatus.values), name="subscription_status_valid"
            ),
        ]

    def __str__(self):
        return f"Abonnement {self.year} de {self.site}"

    @property
    def amount_display(self):
        return euros(self.amount_cents)

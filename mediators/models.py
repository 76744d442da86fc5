"""Mediation sites (structures qualifiées): qualification, points of presence, catalogue, payee
account, subscription and workshops.

A ``Site`` is the mediation side of an ``Organisation`` of kind SITE: the guided application
(identity, points of presence, questionnaire, charter, catalogue, documents, bank account) is
filed on it, the operator's decisions change its ``status`` and are kept in ``SiteStatusChange``.
"""

import secrets
from pathlib import PurePath

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from passnum.organisations.tenancy import TenantQuerySet


def euros(cents):
    """« 77,00 € » from 7700 cents."""
    return f"{cents // 100},{cents % 100:02d} €"


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


class Audience(models.TextChoices):
    SENIORS = "seniors", "Seniors"
    YOUTH = "youth", "Jeunes (16-25 ans)"
    STUDENTS = "students", "Étudiants"
    FAMILIES = "families", "Familles et enfants"
    WOMEN = "women", "Femmes"
    JOB_SEEKERS = "job_seekers", "Demandeurs d'emploi"
    MINIMUM_INCOME = "minimum_income", "Allocataires du RSA"
    DISABILITY = "disability", "Personnes en situation de handicap"
    PRIORITY_AREAS = "priority_areas", "Habitants des quartiers prioritaires et zones isolées"


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


class PointOfPresenceQuerySet(TenantQuerySet, models.QuerySet):
    def visible_to_public(self):
        return self.filter(
            is_active=True, site__status=QualificationStatus.QUALIFIED, site__organisation__is_active=True
        )


class PointOfPresence(models.Model):
    """A place where the site receives people (a site may have several)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="points", verbose_name="structure")
    name = models.CharField("nom du lieu", max_length=200)
    address = models.CharField(
        "adresse", max_length=255, help_text="Numéro et voie, par exemple « 12 rue de la Paix »."
    )
    address_complement = models.CharField("complément d'adresse", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=5)
    commune = models.CharField("commune", max_length=100)
    insee_code = models.CharField(
        "code INSEE de la commune", max_length=5, help_text="5 caractères, par exemple 33522 pour Talence."
    )
    latitude = models.DecimalField("latitude", max_digits=8, decimal_places=6)
    longitude = models.DecimalField("longitude", max_digits=9, decimal_places=6)
    opening_hours = models.CharField(
        "horaires d'ouverture",
        max_length=255,
        blank=True,
        help_text="Par exemple « Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00 » ou en toutes lettres.",
    )
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("e-mail", blank=True)
    wheelchair_accessible = models.BooleanField("accessible en fauteuil roulant", default=False)
    hearing_support = models.BooleanField("accueil des personnes sourdes ou malentendantes", default=False)
    visual_support = models.BooleanField("accueil des personnes malvoyantes", default=False)
    cognitive_support = models.BooleanField("accueil des personnes avec un handicap mental", default=False)
    literacy_support = models.BooleanField("accompagnement des personnes en situation d'illettrisme", default=False)
    is_mobile = models.BooleanField("lieu itinérant (bus, camion…)", default=False)
    regulated_free = models.BooleanField(
        "tarif régulé sans reste à charge",
        default=True,
        help_text="Cochez si, avec le Pass numérique, la personne n'a rien à payer.",
    )
    is_active = models.BooleanField("ouvert", default=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    tenant_field = "site__organisation"
    objects = PointOfPresenceQuerySet.as_manager()

    class Meta:
        verbose_name = "point de présence"
        verbose_name_plural = "points de présence"
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["postcode"]), models.Index(fields=["insee_code"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="point_of_presence_coordinates_range",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.commune})"


class CatalogueFormat(models.TextChoices):
    INDIVIDUAL = "individual", "Accompagnement individuel"
    COLLECTIVE = "collective", "Atelier collectif"


class CatalogueItem(models.Model):
    """A service of the #APTIC referential that the site offers, and on what terms."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="catalogue", verbose_name="structure")
    service = models.ForeignKey(
        "aptic_catalog.Service", on_delete=models.PROTECT, related_name="+", verbose_name="service #APTIC"
    )
    passes_required = models.PositiveSmallIntegerField("nombre de pass", default=1)
    format = models.CharField(
        "format", max_length=12, choices=CatalogueFormat.choices, default=CatalogueFormat.INDIVIDUAL
    )
    duration_minutes = models.PositiveSmallIntegerField("durée (minutes)", default=120)
    tariff_cents = models.PositiveIntegerField("tarif régulé (centimes)", default=1000)
    is_active = models.BooleanField("proposé", default=True)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "service du catalogue"
        verbose_name_plural = "catalogue"
        ordering = ["service__code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "service"], name="catalogue_item_unique_service"),
            models.CheckConstraint(condition=models.Q(passes_required__gte=1), name="catalogue_passes_at_least_1"),
            models.CheckConstraint(condition=models.Q(duration_minutes__gte=1), name="catalogue_duration_positive"),
            models.CheckConstraint(condition=models.Q(tariff_cents__gte=0), name="catalogue_tariff_cents_positive"),
        ]

    def __str__(self):
        return f"{self.service} — {self.passes_required} pass"

    @property
    def tariff_display(self):
        return euros(self.tariff_cents)


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


class PayeeKind(models.TextChoices):
    SELF = "self", "La structure elle-même"
    TREASURER_REGIE = "treasurer_regie", "Le comptable public (régie de recettes)"
    TREASURER_MANDATE = "treasurer_mandate", "Le comptable public (mandat)"


class PayeeStatus(models.TextChoices):
    TO_VERIFY = "to_verify", "À vérifier par l'opérateur"
    VERIFIED = "verified", "Vérifié"


class PayeeAccount(models.Model):
    """The bank account the site's reimbursements are paid to (DESIGN §6)."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="payee_account", verbose_name="structure")
    payee_kind = models.CharField("bénéficiaire du virement", max_length=20, choices=PayeeKind.choices)
    holder_name = models.CharField("titulaire du compte", max_length=140)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11)
    status = models.CharField(
        "vérification", max_length=12, choices=PayeeStatus.choices, default=PayeeStatus.TO_VERIFY, db_index=True
    )
    verified_at = models.DateTimeField("vérifié le", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="vérifié par",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "compte de versement"
        verbose_name_plural = "comptes de versement"
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=PayeeStatus.values), name="payee_status_valid"),
        ]

    def __str__(self):
        return f"{self.holder_name} — {self.masked_iban}"

    @property
    def masked_iban(self):
        return f"{self.iban[:4]} •••• •••• {self.iban[-4:]}" if self.iban else ""

    @property
    def is_verified(self):
        return self.status == PayeeStatus.VERIFIED


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


class WorkshopLevel(models.TextChoices):
    BEGINNER = "beginner", "Débutant"
    INTERMEDIATE = "intermediate", "Intermédiaire"
    ADVANCED = "advanced", "Confirmé"


class WorkshopQuerySet(TenantQuerySet, models.QuerySet):
    def upcoming(self, now=None):
        return self.filter(starts_at__gte=now or timezone.now(), is_cancelled=False)

    def visible_to_public(self):
        return self.upcoming().filter(
            site__status=QualificationStatus.QUALIFIED,
            site__organisation__is_active=True,
            point_of_presence__is_active=True,
        )


class Workshop(models.Model):
    """A session a site publishes: the public sees the upcoming ones."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="workshops", verbose_name="structure")
    service = models.ForeignKey(
        "aptic_catalog.Service", on_delete=models.PROTECT, related_name="+", verbose_name="service #APTIC"
    )
    point_of_presence = models.ForeignKey(
        PointOfPresence, on_delete=models.PROTECT, related_name="workshops", verbose_name="lieu"
    )
    title = models.CharField("titre", max_length=200, blank=True)
    starts_at = models.DateTimeField("début")
    duration_minutes = models.PositiveSmallIntegerField("durée (minutes)", default=120)
    seats = models.PositiveSmallIntegerField("places", default=8)
    level = models.CharField("niveau", max_length=15, choices=WorkshopLevel.choices, default=WorkshopLevel.BEGINNER)
    is_cancelled = models.BooleanField("annulé", default=False)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    tenant_field = "site__organisation"
    objects = WorkshopQuerySet.as_manager()

    class Meta:
        verbose_name = "atelier"
        verbose_name_plural = "ateliers"
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(seats__gte=1), name="workshop_seats_at_least_1"),
            models.CheckConstraint(condition=models.Q(duration_minutes__gte=1), name="workshop_duration_positive"),
        ]

    def __str__(self):
        return f"{self.display_title} — {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"

    @property
    def display_title(self):
        return self.title or self.service.title


# --- Redemption (DESIGN §5) ------------------------------------------------------------------


class Redemption(models.Model):
    """Passes of one booklet spent at a site for one service: what the site is reimbursed for.

    Written only by ``mediators.services.redeem`` in the transaction that locks the passes, moves
    them to ``redeemed`` and journals them. Undone within 24 hours (``undone_at``), never once
    settled on a statement (``settled_at``).
    """

    # A random public id: sites' devices refer to redemptions without learning how many exist.
    id = models.UUIDField(primary_key=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="redemptions", verbose_name="structure")
    point_of_presence = models.ForeignKey(
        PointOfPresence, on_delete=models.PROTECT, related_name="redemptions", verbose_name="lieu"
    )
    service = models.ForeignKey(
        "aptic_catalog.Service", on_delete=models.PROTECT, related_name="+", verbose_name="service #APTIC"
    )
    programme = models.ForeignKey(
        "sponsors.Programme", on_delete=models.PROTECT, related_name="redemptions", verbose_name="programme"
    )
    booklet = models.ForeignKey(
        "passes.Booklet", on_delete=models.PROTECT, related_name="redemptions", verbose_name="carnet"
    )
    pass_count = models.PositiveSmallIntegerField("nombre de pass")
    amount_cents = models.PositiveIntegerField("montant remboursable (centimes)")
    beneficiary_share_cents = models.PositiveIntegerField("reste à charge payé par la personne (centimes)", default=0)
    scanned_at = models.DateTimeField("scanné le")
    redeemed_at = models.DateTimeField("encaissé le", db_index=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="encaissé par",
    )
    undone_at = models.DateTimeField("annulé le", null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="annulé par",
    )
    settled_at = models.DateTimeField("réglé sur un relevé le", null=True, blank=True)

    tenant_field = "site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "encaissement"
        verbose_name_plural = "encaissements"
        ordering = ["-redeemed_at"]
        indexes = [models.Index(fields=["site", "redeemed_at"], name="redemption_site_month_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(pass_count__gte=1), name="redemption_at_least_one_pass"),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="redemption_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(beneficiary_share_cents__lte=models.F("amount_cents")),
                name="redemption_share_within_face_value",
            ),
            models.CheckConstraint(
                condition=models.Q(undone_at__isnull=True) | models.Q(settled_at__isnull=True),
                name="redemption_undone_never_settled",
            ),
            models.CheckConstraint(
                condition=models.Q(undone_at__isnull=True) | models.Q(undone_at__gte=models.F("redeemed_at")),
                name="redemption_undone_after_redeemed",
            ),
        ]

    def __str__(self):
        return f"{self.pass_count} pass — {euros(self.amount_cents)}"

    @property
    def is_live(self):
        return self.undone_at is None

    @property
    def amount_display(self):
        return euros(self.amount_cents)


class RedeemedPass(models.Model):
    """One pass of a redemption. The database allows one live line per pass (partial unique
    index): even a bug in the locking could not redeem a pass twice."""

    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="lines")
    pass_ref = models.ForeignKey("passes.Pass", on_delete=models.PROTECT, related_name="+", db_column="pass_id")
    face_value_cents = models.PositiveIntegerField("valeur faciale (centimes)")
    is_live = models.BooleanField("en vigueur", default=True)

    tenant_field = "redemption__site__organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "pass encaissé"
        verbose_name_plural = "pass encaissés"
        constraints = [
            models.UniqueConstraint(
                fields=["pass_ref"], condition=models.Q(is_live=True), name="redeemed_pass_one_live_per_pass"
            ),
            models.UniqueConstraint(fields=["redemption", "pass_ref"], name="redeemed_pass_once_per_redemption"),
            models.CheckConstraint(condition=models.Q(face_value_cents__gt=0), name="redeemed_pass_value_positive"),
        ]

    def __str__(self):
        return f"Pass {self.pass_ref_id} — encaissement {self.redemption_id}"


class RefusedScan(models.Model):
    """A scan the redemption refused: who, where, which code, why (DESIGN §5). Append-only."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+", verbose_name="organisation"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    point_of_presence = models.ForeignKey(
        PointOfPresence, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="lieu"
    )
    service = models.ForeignKey(
        "aptic_catalog.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered = models.CharField("code saisi ou scanné", max_length=200)
    reason = models.CharField("raison", max_length=40, db_index=True)
    message = models.CharField("message", max_length=300)
    at = models.DateTimeField("date", db_index=True)
    scanned_at = models.DateTimeField("scanné le", null=True, blank=True)

    tenant_field = "organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "scan refusé"
        verbose_name_plural = "scans refusés"
        ordering = ["-at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="refused_scan_append_only", operation=pgtrigger.Update),
        ]

    def __str__(self):
        return f"{self.entered} — {self.reason}"


class RedemptionKey(models.Model):
    """The first answer to ``POST /api/v1/redemptions`` for an ``Idempotency-Key``, stored in the
    same transaction as the redemption (or the refusal) and replayed for retries."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    key = models.CharField("clé", max_length=100)
    request_hash = models.CharField("empreinte de la requête", max_length=64)
    status_code = models.PositiveSmallIntegerField("statut")
    response_body = models.JSONField("réponse")
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("créé le")

    tenant_field = "organisation"
    objects = SiteOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "clé d'idempotence d'encaissement"
        verbose_name_plural = "clés d'idempotence d'encaissement"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="redemption_key_once"),
        ]

    def __str__(self):
        return self.key

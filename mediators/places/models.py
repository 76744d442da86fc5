"""Where a qualified site works: its points de présence, its catalogue of #APTIC services and
its workshops. The public finder and the open data read these.
"""

from django.db import models
from django.utils import timezone

from clearing.money import euros
from mediators.qualification.models import QualificationStatus, Site, SiteOwnedQuerySet
from passnum.organisations.tenancy import TenantQuerySet


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

"""The national #APTIC referential: levels, sub-categories and services of digital mediation.

The referential is reference data owned by the operator: it changes only through a versioned
import (``services.import_referential`` or the console's import), never by code. Services are
never deleted, only deactivated, because passes and catalogues refer to their codes.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Level(models.Model):
    """One of the three official levels (1: discover, 2: master, 3: empower)."""

    number = models.PositiveSmallIntegerField("numéro", unique=True)
    title = models.CharField("intitulé", max_length=200)

    class Meta:
        verbose_name = "niveau"
        verbose_name_plural = "niveaux"
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(number__gte=1, number__lte=3), name="aptic_level_number_1_to_3"),
        ]

    def __str__(self):
        return f"Niveau {self.number} — {self.title}"


class Subcategory(models.Model):
    """A sub-category of a level, coded "<level>.<rank>" (1.1 to 3.5)."""

    code = models.CharField("code", max_length=10, unique=True, help_text="Par exemple 2.1.")
    title = models.CharField("intitulé", max_length=200)
    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="subcategories", verbose_name="niveau")

    class Meta:
        verbose_name = "sous-catégorie"
        verbose_name_plural = "sous-catégories"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.title}"


class Theme(models.Model):
    """The Francil'IN thematic grouping: a second, friendlier way to browse the services."""

    code = models.PositiveSmallIntegerField("code", unique=True)
    title = models.CharField("intitulé", max_length=200)

    class Meta:
        verbose_name = "thème"
        verbose_name_plural = "thèmes"
        ordering = ["code"]

    def __str__(self):
        return self.title


class Service(models.Model):
    """A digital-mediation service of the referential, known everywhere by its code."""

    code = models.PositiveSmallIntegerField("code APTIC", unique=True)
    title = models.CharField("intitulé", max_length=255)
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, related_name="services", verbose_name="sous-catégorie"
    )
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="services", verbose_name="thème"
    )
    is_active = models.BooleanField(
        "actif", default=True, help_text="Un service retiré du référentiel est désactivé, jamais supprimé."
    )

    class Meta:
        verbose_name = "service"
        verbose_name_plural = "services"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__gte=1), name="aptic_service_code_positive"),
        ]

    def __str__(self):
        return f"{self.code}. {self.title}"


class ReferentialVersion(models.Model):
    """One import of the referential: who loaded which file, and a copy of its rows."""

    number = models.PositiveIntegerField("numéro de version", unique=True)
    imported_at = models.DateTimeField("importée le", default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="importée par",
    )
    source_name = models.CharField("fichier source", max_length=255)
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    row_count = models.PositiveIntegerField("nombre de lignes")
    # The rows as imported, so that any past state of the referential can be read again.
    rows = models.JSONField("lignes importées", default=list, blank=True)
    note = models.TextField("note", blank=True)

    class Meta:
        verbose_name = "version du référentiel"
        verbose_name_plural = "versions du référentiel"
        ordering = ["-number"]
        get_latest_by = "number"
        constraints = [
            models.CheckConstraint(condition=models.Q(number__gte=1), name="aptic_version_number_positive"),
        ]

    def __str__(self):
        return f"Version {self.number} du {timezone.localtime(self.imported_at):%d/%m/%Y}"

"""The official referential of communes and departments (Code officiel géographique, as the
Etalab package ``@etalab/decoupage-administratif`` publishes it).

Reference data: it changes only through a versioned import (``services.import_referential``,
the command ``load_territories``), never by hand. Only what Passnum reads is kept: code, name,
department, postcodes and the folded name searched without accents.
"""

from django.db import models
from django.utils import timezone


class Zone(models.TextChoices):
    METROPOLE = "metro", "Métropole"
    OVERSEAS_DEPARTMENT = "drom", "Département d'outre-mer"
    OVERSEAS_COLLECTIVITY = "com", "Collectivité d'outre-mer"


class Department(models.Model):
    """A department, or an overseas collectivity coded like one (975, 977, 978)."""

    code = models.CharField("code", max_length=3, unique=True)
    name = models.CharField("nom", max_length=100)
    zone = models.CharField("zone", max_length=5, choices=Zone.choices)

    class Meta:
        verbose_name = "département"
        verbose_name_plural = "départements"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Commune(models.Model):
    """A current commune, or a municipal district of Paris, Lyon or Marseille (the code an
    address of those cities carries)."""

    code = models.CharField("code INSEE", max_length=5, unique=True)
    name = models.CharField("nom", max_length=100)
    department = models.CharField("département", max_length=3, db_index=True)
    # " 33000 33100 ": spaces on both sides, so that `contains " 33100 "` matches one postcode
    # the same way on PostgreSQL and SQLite.
    postcodes = models.CharField("codes postaux", max_length=400, blank=True)
    folded_name = models.CharField("nom sans accents", max_length=100, db_index=True)

    class Meta:
        verbose_name = "commune"
        verbose_name_plural = "communes"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.department})"


class TerritoryVersion(models.Model):
    """One import of the referential: which package version, which file fingerprint, how many rows."""

    number = models.PositiveIntegerField("numéro de version", unique=True)
    imported_at = models.DateTimeField("importée le", default=timezone.now)
    source_name = models.CharField("source", max_length=255)
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    department_count = models.PositiveIntegerField("nombre de départements")
    commune_count = models.PositiveIntegerField("nombre de communes")
    note = models.TextField("note", blank=True)

    class Meta:
        verbose_name = "version du référentiel des communes"
        verbose_name_plural = "versions du référentiel des communes"
        ordering = ["-number"]
        get_latest_by = "number"

    def __str__(self):
        return f"Version {self.number} ({self.source_name})"

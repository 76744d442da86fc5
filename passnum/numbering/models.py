"""One counter row per document series and year: the source of every gapless document number."""

from django.db import models


class Series(models.TextChoices):
    FAC = "FAC", "Factures aux commanditaires"
    REL = "REL", "Relevés de remboursement des structures"
    AV = "AV", "Avoirs aux commanditaires"
    ABO = "ABO", "Factures d'abonnement des structures"
    CMD = "CMD", "Commandes d'un commanditaire"
    COF = "COF", "Relevés trimestriels des cofinanceurs"
    PNE = "PNE", "Demandes de subvention Pass numérique entreprises"


# Series numbered per organisation (each sponsor counts its own orders from 1 every year); the
# others are one series for the whole platform.
PER_ORGANISATION = frozenset({Series.CMD})


class DocumentCounter(models.Model):
    """The last number given in a series for a year. Locked (SELECT … FOR UPDATE) by the
    transaction that issues the document, so numbers follow each other without gaps."""

    series = models.CharField("série", max_length=8, choices=Series.choices)
    year = models.PositiveIntegerField("année")
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation (série qui lui est propre)",
    )
    last_number = models.PositiveIntegerField("dernier numéro", default=0)

    class Meta:
        verbose_name = "compteur de documents"
        verbose_name_plural = "compteurs de documents"
        ordering = ["series", "-year", "organisation_id"]
        constraints = [
            # One row per series and year, and per organisation for the series that are its own.
            models.UniqueConstraint(
                fields=["series", "year"],
                condition=models.Q(organisation__isnull=True),
                name="document_counter_series_year_unique",
            ),
            models.UniqueConstraint(
                fields=["series", "year", "organisation"],
                condition=models.Q(organisation__isnull=False),
                name="document_counter_series_year_organisation_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(series__in=sorted(PER_ORGANISATION), organisation__isnull=False)
                | (~models.Q(series__in=sorted(PER_ORGANISATION)) & models.Q(organisation__isnull=True)),
                name="document_counter_organisation_iff_own_series",
            ),
        ]

    def __str__(self):
        owner = f" ({self.organisation_id})" if self.organisation_id else ""
        return f"{self.series}-{self.year}{owner} : {self.last_number}"

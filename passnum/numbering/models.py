"""One counter row per document series and year: the source of every gapless document number."""

from django.db import models


class Series(models.TextChoices):
    FAC = "FAC", "Factures aux commanditaires"
    REL = "REL", "Relevés de remboursement des structures"
    AV = "AV", "Avoirs aux commanditaires"
    ABO = "ABO", "Factures d'abonnement des structures"


class DocumentCounter(models.Model):
    """The last number given in a series for a year. Locked (SELECT … FOR UPDATE) by the
    transaction that issues the document, so numbers follow each other without gaps."""

    series = models.CharField("série", max_length=8, choices=Series.choices)
    year = models.PositiveIntegerField("année")
    last_number = models.PositiveIntegerField("dernier numéro", default=0)

    class Meta:
        verbose_name = "compteur de documents"
        verbose_name_plural = "compteurs de documents"
        ordering = ["series", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="document_counter_series_year_unique"),
        ]

    def __str__(self):
        return f"{self.series}-{self.year} : {self.last_number}"

from django.db import models


class OrganisationKind(models.TextChoices):
    OPERATOR = "operator", "Opérateur"
    SPONSOR = "sponsor", "Commanditaire"
    FUNDER = "funder", "Cofinanceur"
    PRESCRIBER = "prescriber", "Prescripteur (aiguilleur)"
    SITE = "site", "Structure de médiation"
    COMPANY = "company", "Entreprise"


class Role(models.TextChoices):
    ADMIN = "admin", "Administrateur"
    MEMBER = "member", "Membre"
    FINANCE = "finance", "Finances"

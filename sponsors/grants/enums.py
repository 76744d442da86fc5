from django.db import models


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    SUBMITTED = "submitted", "Déposée, en attente d'instruction"
    IN_REVIEW = "in_review", "En instruction"
    INFO_REQUESTED = "info_requested", "Compléments demandés"
    GRANTED = "granted", "Accordée"
    REFUSED = "refused", "Refusée"


# States in the instructing service's queue (waiting for its staff).
QUEUE_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW)
DECIDED_STATUSES = (ApplicationStatus.GRANTED, ApplicationStatus.REFUSED)


class ExpenditureCategory(models.TextChoices):
    EXTERNAL_SERVICE = "external_service", "Prestation externe"
    SOFTWARE = "software", "Logiciel"
    TRAINING = "training", "Formation"
    EQUIPMENT = "equipment", "Matériel informatique"
    OTHER = "other", "Autre"


class DocumentKind(models.TextChoices):
    PROJECT_FILE = "project_file", "Dossier type de présentation du projet"
    COMPANY_REGISTRATION = "company_registration", "Extrait Kbis ou avis de situation INSEE"
    QUOTES = "quotes", "Devis des prestataires"
    BANK_DETAILS = "bank_details", "RIB de l'entreprise"
    TAX_CERTIFICATE = "tax_certificate", "Attestations de régularité fiscale et sociale"
    SIGNED_LETTER = "signed_letter", "Lettre de demande signée"
    OTHER = "other", "Autre pièce"


class InstalmentStatus(models.TextChoices):
    SUBMITTED = "submitted", "Facture envoyée, à examiner"
    ACCEPTED = "accepted", "Acceptée — à payer"
    REFUSED = "refused", "Refusée"
    PAID = "paid", "Payée"

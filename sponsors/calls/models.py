"""Calls for projects of a funder, sponsors' applications, co-funding agreements and the funder's
quarterly statements.

A funder (organisation of kind FUNDER) publishes a call with its rules (share cap, minimum
purchase, cap per project, deadline, priority audiences with a minimum proportion). A sponsor
applies with a purchase plan for one of its programmes. A selected application becomes an
``Agreement``: a stable ``sponsors.CoFunder`` row of the programme whose share the sponsor cannot
change. The funder pays its share of the value redeemed and settled to sites, on a quarterly
``FunderStatement`` (gapless number, immutable once issued).
"""

import secrets

import pgtrigger
from django.conf import settings
from django.db import models

from passnum.organisations.tenancy import TenantQuerySet

DEFAULT_MAX_SHARE_BP = 5000  # 50 %
DEFAULT_MIN_PURCHASE_CENTS = 20_000_00  # 20 000 €
DEFAULT_MAX_PURCHASE_CENTS = 3_000_000_00  # 3 M€


class CallQuerySet(TenantQuerySet, models.QuerySet):
    def published(self):
        """Calls a sponsor may read: open or closed, never a draft."""
        return self.exclude(status=Call.Status.DRAFT)


class Call(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        OPEN = "open", "Ouvert"
        CLOSED = "closed", "Clos"

    funder = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="cofinanceur"
    )
    title = models.CharField("titre", max_length=200)
    description = models.TextField("présentation", blank=True)
    max_share_bp = models.PositiveIntegerField(
        "part maximale du cofinanceur (centièmes de %)", default=DEFAULT_MAX_SHARE_BP
    )
    min_purchase_cents = models.BigIntegerField("achat minimal (centimes)", default=DEFAULT_MIN_PURCHASE_CENTS)
    max_purchase_cents = models.BigIntegerField("plafond par projet (centimes)", default=DEFAULT_MAX_PURCHASE_CENTS)
    deadline = models.DateField("date limite de dépôt (incluse)")
    priority_audiences = models.JSONField("publics prioritaires (codes)", default=list, blank=True)
    priority_min_bp = models.PositiveIntegerField("part minimale des publics prioritaires (centièmes de %)", default=0)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    published_at = models.DateTimeField("publié le", null=True, blank=True)
    closed_at = models.DateTimeField("clos le", null=True, blank=True)

    tenant_field = "funder"
    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = "appel à projets"
        verbose_name_plural = "appels à projets"
        ordering = ["-deadline", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_share_bp__gt=0, max_share_bp__lte=10000), name="call_share_0_100"
            ),
            models.CheckConstraint(
                condition=models.Q(min_purchase_cents__gt=0, max_purchase_cents__gte=models.F("min_purchase_cents")),
                name="call_purchase_bounds",
            ),
            models.CheckConstraint(condition=models.Q(priority_min_bp__lte=10000), name="call_priority_min_0_100"),
        ]

    def __str__(self):
        return self.title


class ApplicationQuerySet(TenantQuerySet, models.QuerySet):
    pass


class Application(models.Model):
    """A sponsor's application to a call: its purchase plan for one of its programmes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon, non déposée"
        SUBMITTED = "submitted", "Déposée, en attente de décision"
        SELECTED = "selected", "Retenue"
        REFUSED = "refused", "Refusée"

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications", verbose_name="appel")
    # The programme's sponsor, copied: the sponsor's tenancy reads it without a join.
    sponsor = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="commanditaire"
    )
    programme = models.ForeignKey(
        "sponsors.Programme", on_delete=models.PROTECT, related_name="+", verbose_name="programme"
    )
    booklet_count = models.PositiveIntegerField("carnets à acheter")
    amount_cents = models.BigIntegerField("montant de l'achat (centimes)")
    requested_share_bp = models.PositiveIntegerField("part demandée (centièmes de %)")
    # {audience code: proportion of the passes in basis points}
    audiences = models.JSONField("publics visés et leur part", default=dict, blank=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.DRAFT)
    score = models.PositiveSmallIntegerField("note (sur 100)", null=True, blank=True)
    decision_reason = models.TextField("motif de la décision", blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    submitted_at = models.DateTimeField("déposée le", null=True, blank=True)
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_field = "sponsor"
    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "candidature"
        verbose_name_plural = "candidatures"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "programme"], name="application_one_per_programme_and_call"),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="application_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(requested_share_bp__gt=0, requested_share_bp__lte=10000),
                name="application_share_0_100",
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__lte=100), name="application_score_0_100"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused") | ~models.Q(decision_reason=""),
                name="application_refusal_has_reason",
            ),
        ]

    def __str__(self):
        return f"Candidature de « {self.programme.name} » à « {self.call.title} »"


class ReceivedApplicationManager(models.Manager.from_queryset(ApplicationQuerySet)):
    def get_queryset(self):
        # A draft is the sponsor's alone: the funder never reads it.
        return super().get_queryset().exclude(status=Application.Status.DRAFT)


class ReceivedApplication(Application):
    """The same application, as the funder reads it: owned by the call's funder, drafts left out."""

    tenant_field = "call__funder"
    objects = ReceivedApplicationManager()

    class Meta:
        proxy = True
        verbose_name = "candidature reçue"
        verbose_name_plural = "candidatures reçues"


class AgreementQuerySet(TenantQuerySet, models.QuerySet):
    pass


class Agreement(models.Model):
    """A co-funding agreement: the selected application, attached to its programme as a stable
    co-funder row whose share only the agreement sets. Never changed nor deleted (trigger)."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="agreement", verbose_name="candidature"
    )
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="agreements", verbose_name="appel")
    funder = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="cofinanceur"
    )
    sponsor = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="commanditaire"
    )
    programme = models.ForeignKey(
        "sponsors.Programme", on_delete=models.PROTECT, related_name="+", verbose_name="programme"
    )
    cofunder = models.OneToOneField(
        "sponsors.CoFunder", on_delete=models.PROTECT, related_name="agreement", verbose_name="ligne de cofinancement"
    )
    share_bp = models.PositiveIntegerField("part du cofinanceur (centièmes de %)")
    purchase_cents = models.BigIntegerField("achat prévu (centimes)")
    max_contribution_cents = models.BigIntegerField("contribution maximale (centimes)")
    signed_at = models.DateTimeField("conclue le")

    tenant_field = "funder"
    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = "convention de cofinancement"
        verbose_name_plural = "conventions de cofinancement"
        ordering = ["-signed_at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="agreement_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"Convention {self.call.title} — {self.programme.name}"


def funder_statement_path(instance, filename):
    return f"calls/releves/{instance.year}/{secrets.token_urlsafe(16)}.pdf"


class FunderStatementQuerySet(TenantQuerySet, models.QuerySet):
    pass


class FunderStatement(models.Model):
    """A funder's quarterly statement: its share of the value redeemed and settled to sites in the
    quarter's clearing statements. One per funder and quarter; immutable once issued (trigger)."""

    funder = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="cofinanceur"
    )
    number = models.CharField("numéro", max_length=20, unique=True)
    year = models.PositiveIntegerField("année")
    quarter = models.PositiveSmallIntegerField("trimestre")
    issued_at = models.DateTimeField("émis le")
    funder_name = models.CharField("cofinanceur (à l'émission)", max_length=200)
    settled_cents = models.BigIntegerField("valeur encaissée et réglée (centimes)")
    amount_cents = models.BigIntegerField("montant dû (centimes)")
    pdf = models.FileField("PDF", upload_to=funder_statement_path, max_length=200)

    tenant_field = "funder"
    objects = FunderStatementQuerySet.as_manager()

    class Meta:
        verbose_name = "relevé trimestriel d'un cofinanceur"
        verbose_name_plural = "relevés trimestriels des cofinanceurs"
        ordering = ["-year", "-quarter", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["funder", "year", "quarter"], name="funder_statement_one_per_quarter"),
            models.CheckConstraint(condition=models.Q(quarter__gte=1, quarter__lte=4), name="funder_statement_quarter"),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gte=0, settled_cents__gte=0), name="funder_statement_amounts"
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="funder_statement_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"Relevé {self.number}"


class FunderStatementLine(models.Model):
    """One programme and month of a funder's statement: the settled value and the share due."""

    statement = models.ForeignKey(FunderStatement, on_delete=models.PROTECT, related_name="lines")
    programme = models.ForeignKey("sponsors.Programme", on_delete=models.PROTECT, related_name="+")
    programme_name = models.CharField("programme", max_length=200)
    sponsor_name = models.CharField("commanditaire", max_length=200)
    month = models.DateField("mois des relevés de remboursement")
    share_bp = models.PositiveIntegerField("part (centièmes de %)")
    settled_cents = models.BigIntegerField("valeur réglée (centimes)")
    amount_cents = models.BigIntegerField("montant dû (centimes)")

    tenant_field = "statement__funder"
    objects = type("FunderStatementLineQuerySet", (TenantQuerySet, models.QuerySet), {}).as_manager()

    class Meta:
        verbose_name = "ligne de relevé trimestriel"
        verbose_name_plural = "lignes de relevé trimestriel"
        ordering = ["month", "programme_name"]
        triggers = [
            pgtrigger.Protect(name="funder_statement_line_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.programme_name} — {self.month:%m/%Y}"

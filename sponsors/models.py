"""Sponsors' programmes, orders and invoices.

A programme is a sponsor's deployment of the Pass numérique: face value, booklet size,
validity, territory, eligible services and audiences. An order of booklets is first a quote,
then an invoice (face value + the operator's fee + VAT on the fee), then paid: passes are
generated when the order is confirmed, and can be activated only once it is paid.
"""

import secrets

import pgtrigger
from django.conf import settings
from django.db import models

from passnum.audiences import LABEL_MAX, PROGRAMME_CODE_MAX, Audience
from passnum.organisations.tenancy import TenantQuerySet

# The audiences a programme may target: the national codes (labels in ``passnum.audiences``); a
# programme adds its own as ``ProgrammeAudience`` rows.
DEFAULT_AUDIENCES = list(Audience.values)


def logo_extension(upload):
    """``png`` or ``jpg`` from the file's first bytes, never from the name the client chose (a
    « logo.html » must not be stored, then served, as a web page)."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    return "img"  # not a PNG or JPEG: the services refuse it before saving


def logo_path(instance, filename):
    return f"sponsors/logos/{secrets.token_urlsafe(16)}.{logo_extension(instance.logo.file)}"


def invoice_path(instance, filename):
    return f"sponsors/invoices/{secrets.token_urlsafe(24)}.pdf"


class ProgrammeQuerySet(TenantQuerySet, models.QuerySet):
    pass


class Programme(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Ouvert"
        CLOSED = "closed", "Clos"

    sponsor = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name="commanditaire",
    )
    name = models.CharField("nom", max_length=200)
    prefix = models.CharField(
        "préfixe des numéros de carnet",
        max_length=6,
        unique=True,
        help_text="2 à 6 lettres majuscules, par exemple GIR : les carnets seront numérotés GIR000001…",
        error_messages={"unique": "Ce préfixe est déjà pris par un autre programme."},
    )
    face_value_cents = models.PositiveIntegerField("valeur faciale d'un pass (centimes)", default=1000)
    passes_per_booklet = models.PositiveSmallIntegerField(
        "pass par carnet", default=10, choices=[(5, "5 pass"), (10, "10 pass")]
    )
    valid_until = models.DateField("valable jusqu'au")
    grace_months = models.PositiveSmallIntegerField("délai de grâce (mois)", default=1)
    grace_days = models.PositiveSmallIntegerField("délai de grâce (jours en plus)", default=0)
    departments = models.JSONField("départements", default=list, blank=True)
    communes = models.JSONField("communes (codes INSEE)", default=list, blank=True)
    eligible_levels = models.ManyToManyField(
        "aptic_catalog.Level", blank=True, related_name="+", verbose_name="niveaux éligibles"
    )
    eligible_subcategories = models.ManyToManyField(
        "aptic_catalog.Subcategory", blank=True, related_name="+", verbose_name="sous-catégories éligibles"
    )
    eligible_services = models.ManyToManyField(
        "aptic_catalog.Service", blank=True, related_name="+", verbose_name="services éligibles"
    )
    # Codes: national (``passnum.audiences``) or the programme's own (``ProgrammeAudience``).
    audiences = models.JSONField("publics visés (codes)", default=list, blank=True)
    contact_name = models.CharField("contact : nom", max_length=200, blank=True)
    contact_email = models.EmailField("contact : e-mail", blank=True)
    contact_phone = models.CharField("contact : téléphone", max_length=30, blank=True)
    logo = models.ImageField("logo pour le carnet imprimé", upload_to=logo_path, blank=True)
    allows_exceptions = models.BooleanField(
        "dérogations possibles",
        default=False,
        help_text="Le commanditaire accepte, au cas par cas, un service hors de la liste éligible.",
    )
    requires_beneficiary_name = models.BooleanField(
        "nom du bénéficiaire demandé",
        default=False,
        help_text=(
            "Le guichet note le nom de la personne, avec son accord ; il est effacé à la fin de la durée "
            "de conservation. Sinon, aucun nom n'est enregistré."
        ),
    )
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    tenant_field = "sponsor"
    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        verbose_name = "programme"
        verbose_name_plural = "programmes"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(face_value_cents__gt=0), name="programme_face_value_positive"),
            models.CheckConstraint(
                condition=models.Q(passes_per_booklet__in=[5, 10]), name="programme_booklet_5_or_10"
            ),
            models.CheckConstraint(condition=models.Q(grace_months__lte=12), name="programme_grace_months_max"),
            models.CheckConstraint(condition=models.Q(prefix__regex=r"^[A-Z]{2,6}$"), name="programme_prefix_format"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def is_open(self):
        return self.status == self.Status.OPEN


class ProgrammeAudience(models.Model):
    """An audience of the programme's own, beyond the national codes: a stable code ``p-…`` (never
    a national code: those have no hyphen) and its label, which may be reworded without splitting
    the reports that group by code. Kept when the programme stops targeting it (history)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="own_audiences")
    code = models.CharField("code", max_length=PROGRAMME_CODE_MAX)
    label = models.CharField("libellé", max_length=LABEL_MAX)

    tenant_field = "programme__sponsor"
    objects = type("ProgrammeAudienceQuerySet", (TenantQuerySet, models.QuerySet), {}).as_manager()

    class Meta:
        verbose_name = "public propre à un programme"
        verbose_name_plural = "publics propres aux programmes"
        ordering = ["programme", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="programme_audience_code_unique"),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^p-[a-z0-9]+(-[a-z0-9]+)*$"), name="programme_audience_code_format"
            ),
        ]

    def __str__(self):
        return self.label


class CoFunder(models.Model):
    """A co-funder of a programme and its share, in basis points (5000 = 50 %)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="cofunders")
    name = models.CharField("cofinanceur", max_length=200)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation inscrite",
    )
    share_bp = models.PositiveIntegerField("part (en centièmes de %)", help_text="5000 pour 50 %.")

    tenant_field = "programme__sponsor"
    objects = type("CoFunderQuerySet", (TenantQuerySet, models.QuerySet), {}).as_manager()

    class Meta:
        verbose_name = "cofinanceur"
        verbose_name_plural = "cofinanceurs"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(share_bp__gt=0, share_bp__lte=10000), name="cofunder_share_0_100"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.share_bp / 100:g} %)"


class OrderQuerySet(TenantQuerySet, models.QuerySet):
    pass


class Order(models.Model):
    class Status(models.TextChoices):
        QUOTE = "quote", "Devis"
        INVOICED = "invoiced", "Facturée, en attente de paiement"
        PAID = "paid", "Payée"
        CANCELLED = "cancelled", "Annulée"

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="orders", verbose_name="programme")
    # The programme's sponsor, copied so that the database holds each sponsor's numbers unique.
    sponsor = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="commanditaire"
    )
    # CMD-2026-0001: the sponsor's own series, by the numbering module (``next_order_number``).
    number = models.CharField("numéro", max_length=20)
    booklet_count = models.PositiveIntegerField("nombre de carnets")
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.QUOTE)
    # The quote's figures, frozen when it is made (the invoice copies them).
    face_value_cents = models.BigIntegerField("valeur faciale totale (centimes)")
    fee_rate_bp = models.PositiveIntegerField("taux des frais (centièmes de %)")
    fee_cents = models.BigIntegerField("frais HT (centimes)")
    vat_rate_bp = models.PositiveIntegerField("taux de TVA (centièmes de %)")
    vat_cents = models.BigIntegerField("TVA sur les frais (centimes)")
    total_cents = models.BigIntegerField("total TTC (centimes)")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("demandée le", auto_now_add=True)
    confirmed_at = models.DateTimeField("confirmée le", null=True, blank=True)
    paid_at = models.DateTimeField("payée le", null=True, blank=True)

    tenant_field = "programme__sponsor"
    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = "commande"
        verbose_name_plural = "commandes"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["sponsor", "number"], name="order_number_unique_per_sponsor"),
            models.CheckConstraint(
                condition=models.Q(booklet_count__gte=1, booklet_count__lte=5000), name="order_booklets_1_5000"
            ),
            models.CheckConstraint(
                condition=models.Q(face_value_cents__gte=0, fee_cents__gte=0, vat_cents__gte=0, total_cents__gte=0),
                name="order_amounts_positive",
            ),
        ]

    def __str__(self):
        return f"Commande {self.number} — {self.programme.name} ({self.booklet_count} carnets)"

    @property
    def pass_count(self):
        return self.booklet_count * self.programme.passes_per_booklet


class SponsorInvoiceQuerySet(TenantQuerySet, models.QuerySet):
    pass


class SponsorInvoice(models.Model):
    """An invoice to a sponsor. Never changed once issued (database trigger); the payment is
    recorded in its own row."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice", verbose_name="commande")
    sponsor = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name="commanditaire"
    )
    year = models.PositiveIntegerField("année")
    sequence = models.PositiveIntegerField("rang dans l'année")
    number = models.CharField("numéro", max_length=20, unique=True)
    issued_at = models.DateTimeField("émise le")
    sponsor_name = models.CharField("raison sociale", max_length=200)
    sponsor_address = models.CharField("adresse", max_length=400, blank=True)
    sponsor_siret = models.CharField("SIRET", max_length=14)
    booklet_count = models.PositiveIntegerField("carnets")
    pass_count = models.PositiveIntegerField("pass")
    face_value_cents = models.BigIntegerField("valeur faciale (centimes)")
    fee_rate_bp = models.PositiveIntegerField("taux des frais (centièmes de %)")
    fee_cents = models.BigIntegerField("frais HT (centimes)")
    vat_rate_bp = models.PositiveIntegerField("taux de TVA (centièmes de %)")
    vat_cents = models.BigIntegerField("TVA (centimes)")
    total_cents = models.BigIntegerField("total TTC (centimes)")
    pdf = models.FileField("PDF", upload_to=invoice_path, max_length=200)

    tenant_field = "sponsor"
    objects = SponsorInvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = "facture au commanditaire"
        verbose_name_plural = "factures aux commanditaires"
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="sponsor_invoice_year_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(
                    total_cents=models.F("face_value_cents") + models.F("fee_cents") + models.F("vat_cents")
                ),
                name="sponsor_invoice_total_is_sum",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="sponsor_invoice_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"Facture {self.number}"

    @property
    def is_paid(self):
        return hasattr(self, "payment")


class PaymentQuerySet(TenantQuerySet, models.QuerySet):
    pass


class SponsorPayment(models.Model):
    """The payment of an invoice, recorded by the operator (date, bank reference or mandate)."""

    invoice = models.OneToOneField(SponsorInvoice, on_delete=models.PROTECT, related_name="payment")
    paid_on = models.DateField("payée le")
    reference = models.CharField("référence du virement ou du mandat", max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField("enregistré le", auto_now_add=True)

    tenant_field = "invoice__sponsor"
    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "paiement d'une facture"
        verbose_name_plural = "paiements des factures"
        triggers = [
            pgtrigger.Protect(name="sponsor_payment_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"Paiement de {self.invoice.number} le {self.paid_on:%d/%m/%Y}"

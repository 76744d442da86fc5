"""Forms of the scan page and the redemption lists: they check types; the rules are in
``services``.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone


def local_now_input():
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def euros_to_cents(text):
    """« 2,50 », « 2.5 », « 3 € » → 250, 250, 300; None when the text is not an amount."""
    text = (text or "").replace("€", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > 100000 or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


class ScanForm(forms.Form):
    """The site's scan page without JavaScript (static/js/scan.js posts to the API instead).

    It only checks types: the redemption's rules (place and service of the site, passes) are
    ``services.redeem_once``'s. ``collected`` carries the passes already scanned for a service
    paid with several passes; ``key`` is the idempotency key made when the form was shown, so that
    a form sent twice redeems once.
    """

    point_of_presence = forms.IntegerField(label="Lieu d'accueil", widget=forms.Select)
    service = forms.IntegerField(label="Service rendu", widget=forms.Select)
    code = forms.CharField(
        label="Code du pass",
        max_length=300,
        help_text="Scannez le QR code ou le code-barres du pass, ou tapez son code (par exemple ABCD-EFGH-JKMN-P), "
        "puis Entrée.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "autocorrect": "off",
                "enterkeyhint": "send",
                "autofocus": True,
                "class": "scan-code",
            }
        ),
    )
    beneficiary_share = forms.CharField(
        label="Reste à charge payé par la personne, en euros (facultatif)",
        required=False,
        max_length=12,
        help_text="Si le service n'est que partiellement couvert par les pass, par exemple 2,50.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    collected = forms.CharField(required=False, max_length=400, widget=forms.HiddenInput)
    key = forms.RegexField(regex=r"^[A-Za-z0-9_.:\-]{1,100}$", widget=forms.HiddenInput)

    def __init__(self, *args, points=(), items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point_of_presence"].widget.choices = [(p.pk, f"{p.name} ({p.commune})") for p in points]
        self.fields["service"].widget.choices = [
            (
                item.service.code,
                f"{item.service.code}. {item.service.title}"
                + (f" ({item.passes_required} pass)" if item.passes_required > 1 else ""),
            )
            for item in items
        ]

    def clean_beneficiary_share(self):
        text = self.cleaned_data["beneficiary_share"].strip()
        if not text:
            return None
        cents = euros_to_cents(text)
        if cents is None:
            raise forms.ValidationError("Indiquez un montant en euros, par exemple 2,50 (ou laissez vide).")
        return cents

    def clean_collected(self):
        entries = self.cleaned_data["collected"].split()
        if len(entries) > 9:
            raise forms.ValidationError("Trop de pass scannés pour un même service : recommencez.")
        return entries


class RedemptionFilterForm(forms.Form):
    """The filters of « Encaissements » (a GET form): month, #APTIC service, place. A value that
    does not make sense is reported on its field and left out of the filter."""

    month = forms.CharField(
        label="Mois",
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "AAAA-MM"}),
        help_text="Au format AAAA-MM, par exemple 2025-03.",
    )
    service = forms.TypedChoiceField(label="Service", required=False, coerce=int, empty_value=None)
    point = forms.TypedChoiceField(label="Lieu", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, services=(), points=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Tous les services")] + [
            (str(service.code), f"{service.code}. {service.title}") for service in services
        ]
        self.fields["point"].choices = [("", "Tous les lieux")] + [
            (str(point.pk), point.name if point.is_active else f"{point.name} (fermé)") for point in points
        ]

    def clean_month(self):
        text = self.cleaned_data["month"].strip()
        if not text:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
        if match is None or not 2000 <= int(match[1]) <= 2100 or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError("Indiquez un mois au format AAAA-MM, par exemple 2025-03.")
        return datetime.date(int(match[1]), int(match[2]), 1)


class RefusedScanFilterForm(forms.Form):
    """The filter of « Scans refusés »: the reason of the refusal."""

    reason = forms.ChoiceField(label="Raison", required=False)

    def __init__(self, *args, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "Toutes les raisons"), *reasons]

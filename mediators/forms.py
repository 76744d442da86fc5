"""Forms of the site space and the finder: they check types; the domain rules are in services."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone

from aptic_catalog.selectors import active_services
from mediators.models import (
    Audience,
    CatalogueFormat,
    DocumentKind,
    LegalForm,
    PayeeKind,
    PointOfPresence,
    Sector,
    WorkshopLevel,
)
from mediators.selectors import ACCESSIBILITY_FLAGS
from mediators.services import POINT_FIELDS


def service_choices(services=None):
    services = services if services is not None else active_services()
    return [("", "— Choisissez un service —")] + [(str(s.code), f"{s.code}. {s.title}") for s in services]


class RegisterForm(forms.Form):
    name = forms.CharField(label="Nom de la structure", max_length=200)
    siret = forms.CharField(
        label="SIRET",
        max_length=20,
        help_text="14 chiffres, sur l'avis de situation INSEE ou sur annuaire-entreprises.data.gouv.fr.",
    )
    legal_form = forms.ChoiceField(label="Forme juridique", choices=[("", "— Choisissez —"), *LegalForm.choices])
    sector = forms.ChoiceField(
        label="Secteur",
        choices=Sector.choices,
        widget=forms.RadioSelect,
        help_text="Public : collectivité, établissement public. Privé : association, entreprise, coopérative.",
    )
    address = forms.CharField(label="Adresse du siège", max_length=255)
    postcode = forms.CharField(label="Code postal", max_length=5)
    city = forms.CharField(label="Commune", max_length=100)
    email = forms.EmailField(label="E-mail de contact de la structure", required=False)


class IdentityForm(forms.Form):
    legal_form = forms.ChoiceField(label="Forme juridique", choices=[("", "— Choisissez —"), *LegalForm.choices])
    sector = forms.ChoiceField(label="Secteur", choices=Sector.choices, widget=forms.RadioSelect)
    presentation = forms.CharField(
        label="Présentation courte (visible du public)",
        max_length=280,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="280 caractères au plus.",
    )
    website = forms.URLField(label="Site internet", required=False, assume_scheme="https")
    audiences = forms.MultipleChoiceField(
        label="Publics que vous accueillez en particulier",
        choices=Audience.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class OrganisationIdentityForm(forms.Form):
    """The structure's identity as given at sign-up, changed by its administrator."""

    name = forms.CharField(label="Nom de la structure", max_length=200)
    siret = forms.CharField(
        label="SIRET",
        max_length=20,
        help_text="14 chiffres, sur l'avis de situation INSEE ou sur annuaire-entreprises.data.gouv.fr.",
    )
    address = forms.CharField(label="Adresse du siège", max_length=255)
    postcode = forms.CharField(label="Code postal", max_length=5)
    city = forms.CharField(label="Commune", max_length=100)
    email = forms.EmailField(label="E-mail de contact de la structure", required=False)


class PointForm(forms.ModelForm):
    latitude = forms.CharField(
        label="Latitude", max_length=20, help_text="Par exemple 44.8083 (copiez-la depuis adresse.data.gouv.fr)."
    )
    longitude = forms.CharField(label="Longitude", max_length=20, help_text="Par exemple -0.5880.")

    class Meta:
        model = PointOfPresence
        fields = POINT_FIELDS

    def _clean_coordinate(self, name):
        value = self.cleaned_data[name].strip().replace(",", ".")
        try:
            Decimal(value)
        except InvalidOperation as exc:
            raise forms.ValidationError("Un nombre décimal est attendu, par exemple 44.8094 ou -0.5886.") from exc
        return value

    def clean_latitude(self):
        return self._clean_coordinate("latitude")

    def clean_longitude(self):
        return self._clean_coordinate("longitude")


class QuestionnaireForm(forms.Form):
    def __init__(self, *args, questions, initial_answers, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                help_text=question.help_text,
                choices=[(c.pk, c.label) for c in question.choices.all()],
                coerce=int,
                widget=forms.RadioSelect,
                initial=initial_answers.get(question.pk),
            )

    def answers(self):
        return {question.pk: self.cleaned_data[f"q{question.pk}"] for question in self.questions}


class CharterForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput)
    accept = forms.BooleanField(label="J'ai lu la charte et je l'accepte au nom de la structure", required=True)


class CatalogueItemForm(forms.Form):
    service = forms.CharField(label="Service #APTIC", widget=forms.Select)
    passes_required = forms.IntegerField(label="Nombre de pass demandés", min_value=1, max_value=10, initial=1)
    format = forms.ChoiceField(
        label="Format", choices=CatalogueFormat.choices, widget=forms.RadioSelect, initial=CatalogueFormat.INDIVIDUAL
    )
    duration_minutes = forms.IntegerField(label="Durée (en minutes)", min_value=15, max_value=600, initial=120)
    tariff_euros = forms.DecimalField(
        label="Tarif régulé (en euros)",
        min_value=Decimal("0"),
        max_value=Decimal("10000"),
        decimal_places=2,
        initial=Decimal("10"),
        help_text="Le prix du service, couvert par les pass.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].widget.choices = service_choices()

    @property
    def tariff_cents(self):
        return int((self.cleaned_data["tariff_euros"] * 100).to_integral_value())


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="Type de pièce", choices=DocumentKind.choices)
    file = forms.FileField(
        label="Fichier",
        help_text="PDF, JPEG ou PNG, 5 Mo au plus.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class BankForm(forms.Form):
    payee_kind = forms.ChoiceField(
        label="Qui reçoit les virements ?",
        choices=PayeeKind.choices,
        widget=forms.RadioSelect,
        initial=PayeeKind.SELF,
        help_text="Une structure publique peut être payée sur le compte de son comptable public (régie ou mandat).",
    )
    holder_name = forms.CharField(label="Titulaire du compte", max_length=140)
    iban = forms.CharField(label="IBAN", max_length=42, help_text="Par exemple FR76 3000 6000 0112 3456 7890 189.")
    bic = forms.CharField(label="BIC", max_length=14, help_text="8 ou 11 caractères, par exemple AGRIFRPPXXX.")


class WorkshopForm(forms.Form):
    service = forms.CharField(label="Service", widget=forms.Select)
    point_of_presence = forms.ModelChoiceField(label="Lieu", queryset=PointOfPresence.objects.none())
    title = forms.CharField(label="Titre (facultatif)", max_length=200, required=False)
    starts_at = forms.DateTimeField(
        label="Date et heure de début",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"],
        help_text="Par exemple 14/03/2027 14:00.",
    )
    duration_minutes = forms.IntegerField(label="Durée (en minutes)", min_value=15, max_value=600, initial=120)
    seats = forms.IntegerField(label="Nombre de places", min_value=1, max_value=200, initial=8)
    level = forms.ChoiceField(label="Niveau", choices=WorkshopLevel.choices)

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, **kwargs)
        catalogue = [item.service for item in site.catalogue.filter(is_active=True).select_related("service")]
        self.fields["service"].widget.choices = service_choices(catalogue)
        self.fields["point_of_presence"].queryset = site.points.filter(is_active=True)


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label="Motif (la structure le verra)",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
    )


def level_choices():
    return [("", "Tous les niveaux"), ("1", "1 — Découvrir"), ("2", "2 — Maîtriser"), ("3", "3 — Pouvoir d'agir")]


class FinderForm(forms.Form):
    place = forms.CharField(
        label="Commune ou code postal", max_length=100, required=False, help_text="Par exemple Talence ou 33400."
    )
    service = forms.TypedChoiceField(label="Service", required=False, coerce=int, empty_value=None)
    level = forms.TypedChoiceField(label="Niveau", required=False, coerce=int, empty_value=None, choices=level_choices)
    audience = forms.ChoiceField(label="Public", required=False, choices=[("", "Tous les publics"), *Audience.choices])
    accessibility = forms.MultipleChoiceField(
        label="Accessibilité",
        required=False,
        choices=[(key, label) for key, (_field, label) in ACCESSIBILITY_FLAGS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    workshops_soon = forms.BooleanField(label="Avec des ateliers dans les 30 prochains jours", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = service_choices()
        choices[0] = ("", "Tous les services")
        self.fields["service"].choices = choices


class WorkshopFinderForm(forms.Form):
    place = forms.CharField(label="Commune ou code postal", max_length=100, required=False)
    level = forms.ChoiceField(
        label="Niveau", required=False, choices=[("", "Tous les niveaux"), *WorkshopLevel.choices]
    )


def local_now_input():
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


# --- scan page -------------------------------------------------------------------------------


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


# --- redemptions (site space) ----------------------------------------------------------------


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

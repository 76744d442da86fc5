"""Forms of the site space and the finder: they check types; the domain rules are in services."""

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

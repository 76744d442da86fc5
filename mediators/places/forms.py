"""Forms of places, catalogue, workshops and the finder: they check types; the rules are in
``services``.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.urls import reverse_lazy

from aptic_catalog.selectors import active_services
from mediators.places.models import CatalogueFormat, PointOfPresence, WorkshopLevel
from mediators.places.selectors import ACCESSIBILITY_FLAGS
from mediators.places.services import POINT_FIELDS
from mediators.qualification.models import Audience


def service_choices(services=None):
    services = services if services is not None else active_services()
    return [("", "— Choisissez un service —")] + [(str(s.code), f"{s.code}. {s.title}") for s in services]


class PointForm(forms.ModelForm):
    latitude = forms.CharField(
        label="Latitude", max_length=20, help_text="Par exemple 44.8083 (copiez-la depuis adresse.data.gouv.fr)."
    )
    longitude = forms.CharField(label="Longitude", max_length=20, help_text="Par exemple -0.5880.")

    class Meta:
        model = PointOfPresence
        fields = POINT_FIELDS
        help_texts = {
            "insee_code": "5 caractères, par exemple 33522 pour Talence : tapez le nom de la commune pour le trouver."
        }
        widgets = {
            # Typing a name lists the matching communes with their code (static/js/commune-search.js).
            "insee_code": forms.TextInput(
                attrs={
                    "list": "communes-insee",
                    "autocomplete": "off",
                    "data-commune-search": reverse_lazy("territories:search_communes"),
                }
            ),
        }

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

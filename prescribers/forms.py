import secrets

from django import forms

from beneficiaries.models import AgeBand, LossKind

SERIAL_HELP = "Scannez le code-barres du carnet ou tapez son numéro, puis Entrée."


class SerialForm(forms.Form):
    serial = forms.CharField(
        label="Numéro du carnet",
        max_length=40,
        help_text=SERIAL_HELP,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class FirstFocusedCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes whose first option takes the focus (``autofocus``) when ``focus_first`` is set."""

    focus_first = False

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if self.focus_first and index == 0:
            option["attrs"]["autofocus"] = True
        return option


class HandOverForm(forms.Form):
    """The beneficiary's pseudonymous data, with defaults from the counter's last hand-over."""

    serial = forms.CharField(widget=forms.HiddenInput)
    submission_key = forms.CharField(widget=forms.HiddenInput)
    age_band = forms.ChoiceField(label="Tranche d'âge", choices=AgeBand.choices)
    commune = forms.CharField(
        label="Commune de résidence (code INSEE)",
        max_length=10,
        help_text="5 caractères, par exemple 33063 pour Bordeaux.",
        widget=forms.TextInput(attrs={"list": "communes-du-programme", "autocomplete": "off", "inputmode": "text"}),
    )
    audiences = forms.MultipleChoiceField(
        label="Publics visés qui concernent la personne",
        required=False,
        widget=FirstFocusedCheckboxes,
    )
    contact_consent = forms.BooleanField(label="La personne accepte d'être recontactée", required=False)
    email = forms.CharField(label="E-mail (seulement avec son accord)", required=False, max_length=254)
    phone = forms.CharField(label="Téléphone (seulement avec son accord)", required=False, max_length=20)
    exception_reason = forms.CharField(
        label="Raison de la dérogation (si la personne n'est pas dans les critères)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audiences"].choices = [(a, a) for a in programme.audiences or []]
        if not programme.allows_exceptions:
            del self.fields["exception_reason"]
        if not programme.audiences:
            del self.fields["audiences"]
        elif not self.is_bound and not self.initial.get("audiences"):
            # No remembered audience: the focus goes to the first one (Space ticks it, Enter confirms).
            self.fields["audiences"].widget.focus_first = True

    @property
    def focus_on_confirm(self):
        field = self.fields.get("audiences")
        return field is None or not field.widget.focus_first

    @staticmethod
    def new_key():
        return secrets.token_urlsafe(24)


class ReplacementForm(forms.Form):
    serial = forms.CharField(widget=forms.HiddenInput)
    submission_key = forms.CharField(widget=forms.HiddenInput)
    replaces = forms.CharField(widget=forms.HiddenInput)


class LossForm(forms.Form):
    serial = forms.CharField(
        label="Numéro du carnet perdu ou volé",
        max_length=40,
        help_text=SERIAL_HELP,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "spellcheck": "false"}),
    )
    kind = forms.ChoiceField(label="Que s'est-il passé ?", choices=LossKind.choices, initial=LossKind.LOST)

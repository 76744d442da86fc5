import secrets

from django import forms
from django.urls import reverse_lazy

from beneficiaries.models import AgeBand, LossKind
from passnum.territories import selectors as territory_selectors
from sponsors import selectors as sponsor_selectors

COMMUNE_CODE = territory_selectors.CODE_RE

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
        label="Commune de résidence",
        max_length=100,
        help_text="Son nom ou son code INSEE (5 caractères, par exemple 33063 pour Bordeaux).",
        widget=forms.TextInput(
            attrs={
                "list": "communes-du-programme",
                "autocomplete": "off",
                "inputmode": "text",
                "data-commune-search": reverse_lazy("territories:search_communes"),
            }
        ),
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
        self.programme = programme
        self.fields["audiences"].choices = sponsor_selectors.audience_choices(programme=programme)
        if not programme.allows_exceptions:
            del self.fields["exception_reason"]
        if not programme.audiences:
            del self.fields["audiences"]
        if programme.requires_beneficiary_name:
            # The sponsor requires the name (with consent): it is typed first, the focus starts there.
            # Otherwise the form has no name field at all, and nothing typed as a name is stored.
            self.fields["name"] = forms.CharField(
                label="Nom et prénom de la personne",
                max_length=150,
                help_text="Ce programme demande le nom, noté seulement avec l'accord de la personne.",
                error_messages={"required": "Ce programme demande le nom de la personne : indiquez-le."},
                widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "spellcheck": "false"}),
            )
            self.fields["name_consent"] = forms.BooleanField(
                label="La personne accepte que son nom soit noté",
                error_messages={
                    "required": "Le nom n'est noté qu'avec l'accord de la personne : cochez son accord, sinon "
                    "ce programme ne permet pas la remise."
                },
            )
            self.order_fields(["serial", "submission_key", "name", "name_consent"])
        elif "audiences" in self.fields and not self.is_bound and not self.initial.get("audiences"):
            # No remembered audience: the focus goes to the first one (Space ticks it, Enter confirms).
            self.fields["audiences"].widget.focus_first = True

    def clean_commune(self):
        """A name (« Bordeaux », « Saint-Denis (974) ») becomes its INSEE code; a code stays as typed
        (the service checks it against the referential)."""
        text = self.cleaned_data["commune"].strip()
        if COMMUNE_CODE.match(text.upper()) or not any(char.isalpha() for char in text):
            return text.upper()
        communes = territory_selectors.communes_named(text=text)
        if len(communes) > 1:
            # « Saint-Denis » at a counter of La Réunion's programme means Saint-Denis (974).
            in_territory = [c for c in communes if sponsor_selectors.covers_commune(self.programme, c.code)]
            communes = in_territory if len(in_territory) == 1 else communes
        if len(communes) == 1:
            return communes[0].code
        if not communes:
            raise forms.ValidationError(
                f"Aucune commune ne s'appelle « {text} » : vérifiez l'orthographe, choisissez-la dans la liste "
                "ou tapez son code INSEE."
            )
        choices = ", ".join(f"{c.name} ({c.department}) : {c.code}" for c in communes[:5])
        raise forms.ValidationError(
            f"Plusieurs communes s'appellent « {text} » ({choices}) : tapez le code INSEE de la bonne."
        )

    @property
    def focus_on_confirm(self):
        if "name" in self.fields:
            return False
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


class ReturnForm(forms.Form):
    """Booklets to send back to the operator: all of a programme's stock, a list of serials, or a range."""

    programme = forms.TypedChoiceField(
        label="Tout le stock d'un programme",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Par exemple à la fin du programme, ou si votre guichet arrête de remettre des carnets.",
    )
    serials = forms.CharField(
        label="Ou bien : les numéros des carnets",
        required=False,
        max_length=100_000,
        help_text="Scannez ou tapez les numéros, un par ligne (ou séparés par des espaces ou des virgules).",
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
    )
    first_serial = forms.CharField(
        label="Ou bien : une série, du carnet n°",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    last_serial = forms.CharField(
        label="au carnet n° (inclus)",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, stock, **kwargs):
        super().__init__(*args, **kwargs)
        self.stock = {row["programme_id"]: row for row in stock}
        self.fields["programme"].choices = [("", "Aucun : je choisis les carnets")] + [
            (row["programme_id"], f"{row['name']} ({row['prefix']}) : {row['count']} carnet(s) en stock")
            for row in stock
        ]

    def clean(self):
        data = super().clean()
        chosen = [
            bool(data.get("programme")),
            bool((data.get("serials") or "").strip()),
            bool((data.get("first_serial") or "").strip() or (data.get("last_serial") or "").strip()),
        ]
        if not any(chosen) and not self.errors:
            raise forms.ValidationError(
                "Indiquez les carnets à rendre : tout le stock d'un programme, leurs numéros ou une série."
            )
        if sum(chosen) > 1:
            raise forms.ValidationError(
                "Choisissez une seule façon d'indiquer les carnets : un programme, des numéros ou une série."
            )
        return data

    def request(self):
        """``(serials, first_serial, last_serial)`` for the pass instrument's ``check_return``."""
        data = self.cleaned_data
        if data.get("programme"):
            return self.stock[data["programme"]]["serials"], "", ""
        return data.get("serials") or "", data.get("first_serial") or "", data.get("last_serial") or ""

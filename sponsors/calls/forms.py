from decimal import Decimal

from django import forms

from mediators.qualification.models import Audience
from sponsors.calls.models import Call
from sponsors.models import Programme


def to_bp(value: Decimal | None) -> int:
    """12,5 (%) → 1250 basis points."""
    return int(round((value or 0) * 100))


def to_cents(value: Decimal | None) -> int:
    return int(round((value or 0) * 100))


class CallForm(forms.Form):
    title = forms.CharField(label="Titre de l'appel", max_length=200)
    description = forms.CharField(
        label="Présentation",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Ce que finance l'appel, pour qui, comment candidater.",
    )
    max_share_percent = forms.DecimalField(
        label="Part maximale du cofinanceur (en %)",
        initial=50,
        max_digits=5,
        decimal_places=2,
        help_text="50 % par défaut : le cofinanceur paie au plus cette part des pass utilisés.",
    )
    min_purchase_euros = forms.DecimalField(
        label="Achat minimal par projet (en euros)",
        initial=20000,
        max_digits=12,
        decimal_places=2,
    )
    max_purchase_euros = forms.DecimalField(
        label="Plafond par projet (en euros)",
        initial=3000000,
        max_digits=12,
        decimal_places=2,
    )
    deadline = forms.DateField(label="Date limite de dépôt (incluse)", help_text="Au format JJ/MM/AAAA.")
    priority_audiences = forms.MultipleChoiceField(
        label="Publics prioritaires", choices=Audience.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    priority_min_percent = forms.DecimalField(
        label="Part minimale des pass pour les publics prioritaires (en %)",
        initial=0,
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text="Par exemple 50 : au moins la moitié des pass pour ces publics, ensemble.",
    )

    def to_data(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"].strip(),
            "description": data["description"].strip(),
            "max_share_bp": to_bp(data["max_share_percent"]),
            "min_purchase_cents": to_cents(data["min_purchase_euros"]),
            "max_purchase_cents": to_cents(data["max_purchase_euros"]),
            "deadline": data["deadline"],
            "priority_audiences": list(data["priority_audiences"]),
            "priority_min_bp": to_bp(data.get("priority_min_percent")),
        }

    @classmethod
    def initial_for(cls, call: Call) -> dict:
        return {
            "title": call.title,
            "description": call.description,
            "max_share_percent": Decimal(call.max_share_bp) / 100,
            "min_purchase_euros": Decimal(call.min_purchase_cents) / 100,
            "max_purchase_euros": Decimal(call.max_purchase_cents) / 100,
            "deadline": call.deadline,
            "priority_audiences": call.priority_audiences,
            "priority_min_percent": Decimal(call.priority_min_bp) / 100,
        }


class ApplicationForm(forms.Form):
    """A purchase plan: the programme, its booklets, the share asked for, and the proportion of
    the passes meant for each audience (one field per audience of the vocabulary)."""

    call = forms.ModelChoiceField(
        label="Appel à projets", queryset=Call.objects.none(), empty_label="Choisissez un appel"
    )
    programme = forms.ModelChoiceField(
        label="Programme", queryset=Programme.objects.none(), empty_label="Choisissez un de vos programmes"
    )
    booklet_count = forms.IntegerField(
        label="Nombre de carnets à acheter",
        min_value=1,
        help_text="Le montant de l'achat est ce nombre × la valeur d'un carnet du programme.",
    )
    share_percent = forms.DecimalField(
        label="Part demandée au cofinanceur (en %)",
        max_digits=5,
        decimal_places=2,
        min_value=0,
    )

    def __init__(self, *args, calls, programmes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["call"].queryset = calls
        self.fields["programme"].queryset = programmes
        for code, label in Audience.choices:
            self.fields[f"audience_{code}"] = forms.DecimalField(
                label=f"Part des pass pour : {label} (en %)",
                required=False,
                min_value=0,
                max_value=100,
                max_digits=5,
                decimal_places=2,
            )

    def audience_fields(self):
        return [self[f"audience_{code}"] for code in Audience.values]

    def audiences(self) -> dict[str, int]:
        return {
            code: to_bp(self.cleaned_data.get(f"audience_{code}"))
            for code in Audience.values
            if self.cleaned_data.get(f"audience_{code}")
        }

    @staticmethod
    def initial_for(application) -> dict:
        initial = {
            "call": application.call_id,
            "programme": application.programme_id,
            "booklet_count": application.booklet_count,
            "share_percent": Decimal(application.requested_share_bp) / 100,
        }
        for code, bp in application.audiences.items():
            initial[f"audience_{code}"] = Decimal(bp) / 100
        return initial


class ScoreForm(forms.Form):
    score = forms.IntegerField(label="Note (de 0 à 100)", min_value=0, max_value=100)


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label="Motif du refus",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Il est communiqué au commanditaire.",
    )


class SelectForm(forms.Form):
    reason = forms.CharField(
        label="Commentaire (facultatif)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class QuarterForm(forms.Form):
    year = forms.IntegerField(label="Année", min_value=2015, max_value=2100)
    quarter = forms.TypedChoiceField(
        label="Trimestre",
        coerce=int,
        choices=[(1, "1er trimestre"), (2, "2e trimestre"), (3, "3e trimestre"), (4, "4e trimestre")],
    )

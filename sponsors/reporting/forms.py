from django import forms

from sponsors.reporting.models import ExportFormat, ExportKind
from sponsors.reporting.services import OPERATOR_KINDS


class MonthInput(forms.TextInput):
    input_type = "month"


class OperatorExportForm(forms.Form):
    kind = forms.ChoiceField(
        label="Que voulez-vous exporter ?",
        choices=[(kind.value, kind.label) for kind in ExportKind if kind in OPERATOR_KINDS],
        widget=forms.RadioSelect,
        initial=ExportKind.REDEMPTIONS,
    )
    file_format = forms.ChoiceField(
        label="Format", choices=ExportFormat.choices, widget=forms.RadioSelect, initial=ExportFormat.CSV
    )
    du = forms.CharField(
        label="Du mois (AAAA-MM)", required=False, max_length=20, widget=MonthInput, help_text="Vide : depuis le début."
    )
    au = forms.CharField(
        label="Au mois (AAAA-MM)", required=False, max_length=20, widget=MonthInput, help_text="Vide : jusqu'à ce jour."
    )

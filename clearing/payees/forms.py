"""The form of an organisation's payee account (a site's, a company's): bank details live in clearing."""

from django import forms

from clearing.payees.models import PayeeKind


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

"""Forms of the business grant: they read types (French amounts « 1 234,56 » into cents, dates);
the rules are in ``services`` and ``eligibility``."""

from decimal import Decimal

from django import forms

from sponsors.grants.enums import DocumentKind, ExpenditureCategory
from sponsors.grants.services import GrantError, parse_euros

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AmountField(forms.CharField):
    """An amount in euros as a person types it (« 1 234,56 », « 8000 », « 8 000 € »), cleaned to cents."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("help_text", "En euros, par exemple 8 000 ou 1 234,56.")
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            return parse_euros(value)
        except GrantError as error:
            raise forms.ValidationError(error.message, code=str(error.code)) from error


def cents_to_text(cents):
    if cents is None:
        return ""
    whole, rest = divmod(cents, 100)
    return f"{whole},{rest:02d}" if rest else str(whole)


class CompanyRegisterForm(forms.Form):
    name = forms.CharField(label="Raison sociale de l'entreprise", max_length=200)
    siret = forms.CharField(
        label="SIRET",
        max_length=20,
        help_text="14 chiffres, sur l'extrait Kbis ou sur annuaire-entreprises.data.gouv.fr.",
    )
    address = forms.CharField(label="Adresse du siège", max_length=255)
    postcode = forms.CharField(label="Code postal", max_length=5)
    city = forms.CharField(label="Commune", max_length=100)
    email = forms.EmailField(label="E-mail de contact de l'entreprise", required=False)


class SchemeForm(forms.Form):
    name = forms.CharField(label="Nom du dispositif", max_length=200)
    min_amount_cents = AmountField(label="Montant minimal de la subvention")
    max_amount_cents = AmountField(label="Montant maximal de la subvention")
    headcount_limit = forms.IntegerField(
        label="Effectif limite",
        min_value=1,
        help_text="L'entreprise doit compter strictement moins de salariés (30 : moins de 30 salariés).",
    )
    equipment_cap_percent = forms.DecimalField(
        label="Part maximale du matériel (%)", min_value=0, max_value=100, decimal_places=2, localize=True
    )
    max_duration_months = forms.IntegerField(label="Durée maximale du projet (mois)", min_value=1, max_value=120)
    renewal_after_months = forms.IntegerField(
        label="Nouvelle demande possible après (mois)", min_value=1, max_value=120
    )
    departments = forms.CharField(
        label="Départements éligibles",
        max_length=200,
        help_text="Codes séparés par des virgules, par exemple 972 pour la Martinique.",
    )
    required_documents = forms.MultipleChoiceField(
        label="Pièces obligatoires", choices=DocumentKind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    president_title = forms.CharField(label="Destinataire de la lettre de demande", max_length=200)
    contact_service = forms.CharField(label="Service instructeur", max_length=200, required=False)
    contact_email = forms.EmailField(label="E-mail du service instructeur", required=False)
    contact_phone = forms.CharField(label="Téléphone du service instructeur", max_length=30, required=False)
    contact_address = forms.CharField(
        label="Adresse du service instructeur", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_open = forms.BooleanField(label="Ouvert aux demandes", required=False)

    def settings(self):
        data = dict(self.cleaned_data)
        data["equipment_cap_bp"] = int(data.pop("equipment_cap_percent") * 100)
        data["departments"] = [code.strip() for code in data["departments"].split(",") if code.strip()]
        return data

    @classmethod
    def initial_of(cls, scheme):
        return {
            "name": scheme.name,
            "min_amount_cents": cents_to_text(scheme.min_amount_cents),
            "max_amount_cents": cents_to_text(scheme.max_amount_cents),
            "headcount_limit": scheme.headcount_limit,
            "equipment_cap_percent": Decimal(scheme.equipment_cap_bp) / 100,
            "max_duration_months": scheme.max_duration_months,
            "renewal_after_months": scheme.renewal_after_months,
            "departments": ", ".join(scheme.departments),
            "required_documents": scheme.required_documents,
            "president_title": scheme.president_title,
            "contact_service": scheme.contact_service,
            "contact_email": scheme.contact_email,
            "contact_phone": scheme.contact_phone,
            "contact_address": scheme.contact_address,
            "is_open": scheme.is_open,
        }


class ApplicationForm(forms.Form):
    headcount = forms.IntegerField(
        label="Effectif (nombre de salariés)", required=False, help_text="Le nombre de salariés aujourd'hui."
    )
    naf_code = forms.CharField(
        label="Code NAF (APE)", max_length=8, required=False, help_text="Par exemple 62.01Z, sur l'extrait Kbis."
    )
    turnover_cents = AmountField(label="Chiffre d'affaires du dernier exercice (facultatif)", required=False)
    commune_code = forms.CharField(
        label="Commune du siège (code INSEE)",
        max_length=5,
        required=False,
        help_text="Le code INSEE, pas le code postal : 97209 pour Fort-de-France.",
    )
    project_title = forms.CharField(label="Intitulé du projet", max_length=200, required=False)
    project_description = forms.CharField(
        label="Description du projet", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    strategic_stakes = forms.CharField(
        label="Enjeux stratégiques pour l'entreprise", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    expected_growth = forms.CharField(
        label="Croissance attendue", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    start_date = forms.DateField(
        label="Début prévu du projet",
        required=False,
        widget=DATE_WIDGET,
        help_text="La demande doit être déposée au plus tard la veille.",
    )
    end_date = forms.DateField(label="Fin prévue du projet", required=False, widget=DATE_WIDGET)
    requested_amount_cents = AmountField(label="Montant de la subvention demandée", required=False)

    @classmethod
    def initial_of(cls, application):
        initial = {name: getattr(application, name) for name in cls.base_fields}
        for name in ("turnover_cents", "requested_amount_cents"):
            initial[name] = cents_to_text(getattr(application, name))
        return initial


class ExpenditureLineForm(forms.Form):
    category = forms.ChoiceField(label="Catégorie", choices=[("", "— Choisissez —"), *ExpenditureCategory.choices])
    supplier = forms.CharField(label="Prestataire ou fournisseur", max_length=200)
    description = forms.CharField(label="Objet", max_length=255, required=False)
    amount_cents = AmountField(label="Montant HT", help_text="")

    def clean_amount_cents(self):
        if self.cleaned_data.get("amount_cents") is None:
            raise forms.ValidationError("Indiquez le montant.")
        return self.cleaned_data["amount_cents"]


ExpenditureFormSet = forms.formset_factory(ExpenditureLineForm, extra=2, max_num=50, absolute_max=60, can_delete=True)


def lines_of(formset) -> list[dict]:
    return [
        {key: form.cleaned_data[key] for key in ("category", "supplier", "description", "amount_cents")}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="Pièce", choices=[("", "— Choisissez —"), *DocumentKind.choices])
    file = forms.FileField(label="Fichier (PDF, JPEG ou PNG, 5 Mo au plus)")


class AnswerForm(forms.Form):
    answer = forms.CharField(label="Votre réponse", widget=forms.Textarea(attrs={"rows": 5}))


class AssignForm(forms.Form):
    instructor = forms.ChoiceField(label="Instructeur ou instructrice")

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instructor"].choices = [("", "— Choisissez —")] + [
            (m.user_id, m.user.get_full_name() or m.user.email) for m in memberships
        ]


class InfoRequestForm(forms.Form):
    message = forms.CharField(label="Compléments demandés à l'entreprise", widget=forms.Textarea(attrs={"rows": 4}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[("granted", "Accorder la subvention"), ("refused", "Refuser la demande")],
        widget=forms.RadioSelect,
    )
    amount = AmountField(label="Montant accordé (si accordée)", required=False)
    reason = forms.CharField(
        label="Motif (obligatoire en cas de refus)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="L'entreprise le lira dans la lettre de décision.",
    )


class InstalmentForm(forms.Form):
    line = forms.ChoiceField(label="Ligne du plan de dépenses")
    invoice_number = forms.CharField(label="Numéro de la facture", max_length=60)
    amount = AmountField(label="Montant demandé sur cette facture")
    file = forms.FileField(label="Facture (PDF, JPEG ou PNG, 5 Mo au plus)")

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [("", "— Choisissez —")] + [(line.pk, str(line)) for line in lines]


class InstalmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision", choices=[("accept", "Accepter"), ("refuse", "Refuser")], widget=forms.RadioSelect
    )
    reason = forms.CharField(label="Motif (obligatoire en cas de refus)", required=False, max_length=500)

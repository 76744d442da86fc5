"""Forms of the qualification pages and the operator's decision: they check types; the rules are
in ``services``.
"""

from django import forms

from clearing.payees.forms import BankForm  # noqa: F401 - the site's bank page uses it from here
from mediators.qualification.models import Audience, DocumentKind, LegalForm, Sector


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


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="Type de pièce", choices=DocumentKind.choices)
    file = forms.FileField(
        label="Fichier",
        help_text="PDF, JPEG ou PNG, 5 Mo au plus.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label="Motif (la structure le verra)",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
    )

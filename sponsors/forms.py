from django import forms

from aptic_catalog.models import Level, Service, Subcategory
from passnum.audiences import Audience
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from sponsors import selectors as sponsor_selectors
from sponsors.services import split_codes

OWN_LABEL = "own_label_"


class ProgrammeForm(forms.Form):
    name = forms.CharField(label="Nom du programme", max_length=200)
    prefix = forms.CharField(
        label="Préfixe des numéros de carnet",
        max_length=6,
        help_text="2 à 6 lettres, par exemple GIR : les carnets seront numérotés GIR000001, GIR000002…",
    )
    face_value_euros = forms.DecimalField(
        label="Valeur d'un pass (en euros)", initial=10, max_digits=5, decimal_places=2, min_value=0
    )
    passes_per_booklet = forms.TypedChoiceField(
        label="Nombre de pass par carnet", choices=[(10, "10 pass"), (5, "5 pass")], coerce=int, initial=10
    )
    valid_until = forms.DateField(
        label="Pass valables jusqu'au", help_text="Au format JJ/MM/AAAA, par exemple 31/12/2026."
    )
    grace_months = forms.IntegerField(label="Délai de grâce (mois)", initial=1, help_text="1 mois par défaut.")
    grace_days = forms.IntegerField(label="Délai de grâce (jours en plus)", initial=0)
    departments = forms.CharField(
        label="Départements",
        required=False,
        help_text="Codes séparés par des virgules, par exemple 33, 24, 2A, ou 977 (Saint-Barthélemy) "
        "et 978 (Saint-Martin).",
    )
    communes = forms.CharField(
        label="Communes (codes INSEE)",
        required=False,
        help_text="Codes INSEE à 5 caractères séparés par des virgules, par exemple 33063 (Bordeaux) ; trouvez le code "
        "d'une commune par son nom avec la recherche ci-dessous.",
    )
    eligible_levels = forms.ModelMultipleChoiceField(
        label="Niveaux éligibles", queryset=Level.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    eligible_subcategories = forms.ModelMultipleChoiceField(
        label="Sous-catégories éligibles",
        queryset=Subcategory.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    eligible_services = forms.ModelMultipleChoiceField(
        label="Services éligibles un par un",
        queryset=Service.objects.filter(is_active=True),
        required=False,
        help_text="Sans aucun choix de niveau, de sous-catégorie ou de service, tous les services sont éligibles.",
    )
    # Labels shown, codes stored (``passnum.audiences``); the programme's own audiences are added
    # to the choices, with a field to rename each (its code, hence its history, stays).
    audiences = forms.MultipleChoiceField(
        label="Publics visés",
        choices=Audience.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_audiences = forms.CharField(
        label="Autres publics visés",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Un par ligne, s'il n'est pas dans la liste ci-dessus.",
    )
    cofunders = forms.CharField(
        label="Cofinanceurs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Un par ligne : nom ; part en %. Par exemple « État (ANCT) ; 50 ».",
    )
    agreement_cofunders = forms.CharField(
        label="Cofinanceurs par convention (non modifiables)",
        required=False,
        disabled=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Parts fixées par une convention de cofinancement signée avec le cofinanceur.",
    )
    contact_name = forms.CharField(label="Contact : nom", max_length=200, required=False)
    contact_email = forms.EmailField(label="Contact : e-mail", required=False)
    contact_phone = forms.CharField(label="Contact : téléphone", max_length=30, required=False)
    logo = forms.FileField(
        label="Logo pour le carnet imprimé", required=False, help_text="Image PNG ou JPEG, 2 Mo au plus."
    )
    allows_exceptions = forms.BooleanField(label="Dérogations possibles au cas par cas", required=False)
    requires_beneficiary_name = forms.BooleanField(
        label="Demander le nom du bénéficiaire au guichet",
        required=False,
        help_text=(
            "Le nom n'est noté qu'avec l'accord de la personne et il est effacé à la fin de la durée de "
            "conservation. Sans cette case, aucun nom n'est enregistré."
        ),
    )

    def __init__(self, *args, programme=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.own_audiences = sponsor_selectors.own_audiences(programme=programme) if programme else {}
        self.fields["audiences"].choices = [*Audience.choices, *self.own_audiences.items()]
        renames = {
            f"{OWN_LABEL}{code}": forms.CharField(
                label=f"Nom du public « {label} »",
                initial=label,
                max_length=100,
                required=False,
                help_text="Pour le renommer : ses remises restent comptées ensemble dans le rapport.",
            )
            for code, label in self.own_audiences.items()
        }
        names, fields = list(self.fields), dict(self.fields)
        position = names.index("other_audiences") + 1
        self.fields = {
            **{name: fields[name] for name in names[:position]},
            **renames,
            **{name: fields[name] for name in names[position:]},
        }
        if not self.initial.get("agreement_cofunders"):
            del self.fields["agreement_cofunders"]  # no agreement: nothing to show

    def clean_cofunders(self):
        result = []
        for number, line in enumerate(self.cleaned_data["cofunders"].splitlines(), start=1):
            if not line.strip():
                continue
            name, _, share = line.rpartition(";")
            try:
                share_bp = round(float(share.strip().replace(",", ".").rstrip("%").strip()) * 100)
            except ValueError:
                raise forms.ValidationError(f"Ligne {number} : écrivez « nom ; part en % ».") from None
            result.append((name.strip(), share_bp))
        return result

    def to_data(self):
        data = dict(self.cleaned_data)
        data["face_value_cents"] = int(round(data.pop("face_value_euros") * 100))
        data.pop("agreement_cofunders", None)
        data["departments"] = split_codes(data["departments"])
        data["communes"] = split_codes(data["communes"])
        others = [line.strip() for line in data.pop("other_audiences").splitlines() if line.strip()]
        data["audiences"] = list(data["audiences"]) + [a for a in others if a not in data["audiences"]]
        renamed = {}
        for code, label in self.own_audiences.items():
            new = " ".join(data.pop(f"{OWN_LABEL}{code}", "").split())
            if new and new != label:
                renamed[code] = new
        if renamed:
            data["audience_labels"] = renamed
        if not data.get("logo"):
            data.pop("logo", None)
        return data

    @classmethod
    def initial_for(cls, programme):
        return {
            "name": programme.name,
            "prefix": programme.prefix,
            "face_value_euros": programme.face_value_cents / 100,
            "passes_per_booklet": programme.passes_per_booklet,
            "valid_until": programme.valid_until,
            "grace_months": programme.grace_months,
            "grace_days": programme.grace_days,
            "departments": ", ".join(programme.departments),
            "communes": ", ".join(programme.communes),
            "eligible_levels": list(programme.eligible_levels.all()),
            "eligible_subcategories": list(programme.eligible_subcategories.all()),
            "eligible_services": list(programme.eligible_services.all()),
            "audiences": list(programme.audiences),
            # A co-funder of an agreement is shown apart, read-only: its share is the agreement's.
            "cofunders": "\n".join(
                f"{c.name} ; {c.share_bp / 100:g}" for c in programme.cofunders.filter(agreement__isnull=True)
            ),
            "agreement_cofunders": "\n".join(
                f"{c.name} ; {c.share_bp / 100:g} % (convention de cofinancement)"
                for c in programme.cofunders.filter(agreement__isnull=False)
            ),
            "contact_name": programme.contact_name,
            "contact_email": programme.contact_email,
            "contact_phone": programme.contact_phone,
            "allows_exceptions": programme.allows_exceptions,
            "requires_beneficiary_name": programme.requires_beneficiary_name,
        }


class OrderForm(forms.Form):
    booklet_count = forms.IntegerField(label="Nombre de carnets", help_text="Entre 1 et 5000 carnets par commande.")


class AllocationForm(forms.Form):
    prescriber = forms.ModelChoiceField(
        label="Prescripteur",
        queryset=Organisation.objects.filter(kind=OrganisationKind.PRESCRIBER, is_active=True).order_by("name"),
        empty_label="Choisissez un prescripteur",
        help_text="Le guichet qui remettra les carnets (CCAS, mairie, association…).",
    )
    count = forms.IntegerField(
        label="Nombre de carnets", required=False, help_text="Les prochains carnets en stock, dans l'ordre des numéros."
    )
    first_serial = forms.CharField(label="Ou bien : du carnet n°", max_length=20, required=False)
    last_serial = forms.CharField(label="au carnet n°", max_length=20, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("count") and not (data.get("first_serial") or data.get("last_serial")):
            raise forms.ValidationError("Indiquez un nombre de carnets ou une série de numéros.")
        if data.get("count") and (data.get("first_serial") or data.get("last_serial")):
            raise forms.ValidationError("Indiquez soit un nombre de carnets, soit une série, pas les deux.")
        return data

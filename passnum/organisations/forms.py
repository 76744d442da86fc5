from django import forms

from passnum.organisations.enums import Role


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Adresse e-mail de la personne à inviter", max_length=254)
    role = forms.ChoiceField(
        label="Rôle",
        choices=Role.choices,
        initial=Role.MEMBER,
        help_text="Administrateur : gère les membres. Finances : voit les factures et relevés (double "
        "authentification obligatoire). Membre : utilise l'espace au quotidien.",
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Nom de l'appareil ou de l'outil",
        max_length=100,
        help_text="Par exemple « Téléphone de l'accueil » : pour le reconnaître et le révoquer si besoin.",
    )

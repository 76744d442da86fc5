import contextlib
import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from passnum import demo
from passnum.organisations.enums import OrganisationKind
from passnum.passes.codes import grouped

# What to open first with each kind of account (url name, what it is for): the human output
# only, so that someone who just ran `make run` knows where to go.
PAGES_BY_KIND = {
    OrganisationKind.OPERATOR: [
        ("admin:index", "console de l'opérateur : organisations, structures, virements"),
        ("operator_overview", "vue d'ensemble du dispositif : pass, structures, clôtures, mois par mois"),
    ],
    OrganisationKind.SPONSOR: [
        ("sponsors:home", "espace commanditaire : programmes, commandes, factures"),
        ("calls:open_calls", "appels à projets des cofinanceurs et candidatures"),
        ("grants:home", "subvention aux entreprises : demandes à instruire, règles, bilan"),
    ],
    OrganisationKind.COMPANY: [("grants:home", "mes demandes de subvention Pass numérique entreprises")],
    OrganisationKind.FUNDER: [
        ("calls:funder_home", "espace cofinanceur : appels à projets, conventions, montant dû, relevés trimestriels")
    ],
    OrganisationKind.PRESCRIBER: [
        ("prescribers:home", "guichet : carnets en stock, remises, pertes"),
        ("prescribers:hand_over", "remettre un carnet à une personne"),
    ],
    OrganisationKind.SITE: [
        ("mediators:dashboard", "espace de la structure : dossier, lieux, catalogue"),
        ("mediators:scan", "encaisser un pass"),
    ],
}
PUBLIC_PAGES = [
    ("home", "accueil"),
    ("mediators:finder", "où utiliser mon pass"),
    ("beneficiaries:verify", "vérifier mon pass"),
]


class Command(BaseCommand):
    help = "Crée les données de démonstration (idempotent) et affiche les comptes et quoi essayer."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Affiche le résultat en un objet JSON.")
        parser.add_argument(
            "--base-url",
            default=settings.SITE_URL,
            help="Adresse du serveur dans les liens affichés (celle de PASSNUM_SITE_URL par défaut).",
        )

    def handle(self, *args, **options):
        # What the demo's jobs print meanwhile (the e-mails of the console backend, outside
        # production) goes to the error stream: the standard output stays the result alone.
        with contextlib.redirect_stdout(sys.stderr):
            output = demo.build()
        if options["json"]:
            self.stdout.write(json.dumps(output, ensure_ascii=False, indent=2))
            return
        base = options["base_url"].rstrip("/")
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes. Comptes :"))
        for account in output["accounts"]:
            password = account["password"] or "(inchangé depuis la première création)"
            line = f"  {account['email']:<32} {password:<22} {account['role']:<8} {account['organisation']}"
            self.stdout.write(line)
            if account.get("totp_secret"):
                self.stdout.write(f"      double authentification : secret TOTP {account['totp_secret']}")
        self.stdout.write(f"Connexion : {base}{reverse('account_login')}")
        self._things_to_try(output, base)
        self._pages(output, base)

    def _things_to_try(self, output, base):
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("À essayer :"))
        stock = output.get("booklets_in_stock") or []
        if stock:
            serial, email = stock[-1]["serial"], stock[-1]["prescriber_email"]
            self.stdout.write(f"  Carnet en stock au guichet : {serial} (connecté en {email}, remettez-le :")
            self.stdout.write(f"      {base}{reverse('prescribers:hand_over')}?serial={serial})")
        passes = output.get("redeemable_passes") or []
        if passes:
            code, email = passes[-1]["code"], passes[-1]["site_email"]
            self.stdout.write(f"  Pass à encaisser : {grouped(code)} (connecté en {email}, ouvrez son QR code :")
            self.stdout.write(f"      {base}{reverse('mediators:pass_landing', args=[code])})")

    def _pages(self, output, base):
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Pages à ouvrir, par compte :"))
        for account in output["accounts"]:
            self.stdout.write(f"  {account['email']} :")
            for name, what in PAGES_BY_KIND.get(account["kind"], [("dashboard", "mon espace")]):
                self.stdout.write(f"      {base}{reverse(name)}  — {what}")
        self.stdout.write("  Sans compte :")
        for name, what in PUBLIC_PAGES:
            self.stdout.write(f"      {base}{reverse(name)}  — {what}")

import contextlib
import json
import sys

from django.core.management.base import BaseCommand

from passnum import demo


class Command(BaseCommand):
    help = "Crée les données de démonstration (idempotent) et affiche les comptes."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Affiche le résultat en un objet JSON.")

    def handle(self, *args, **options):
        # What the demo's jobs print meanwhile (the e-mails of the console backend, outside
        # production) goes to the error stream: the standard output stays the result alone.
        with contextlib.redirect_stdout(sys.stderr):
            output = demo.build()
        if options["json"]:
            self.stdout.write(json.dumps(output, ensure_ascii=False, indent=2))
            return
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes. Comptes :"))
        for account in output["accounts"]:
            password = account["password"] or "(inchangé depuis la première création)"
            line = f"  {account['email']:<32} {password:<22} {account['role']:<8} {account['organisation']}"
            self.stdout.write(line)
            if account.get("totp_secret"):
                self.stdout.write(f"      double authentification : secret TOTP {account['totp_secret']}")
        self.stdout.write("Connexion : http://127.0.0.1:8000/compte/login/")

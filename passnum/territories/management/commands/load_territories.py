from django.core.management.base import BaseCommand, CommandError

from passnum.territories.services import import_referential
from passnum.territories.source import ReferentialMissing


class Command(BaseCommand):
    help = "Importe le référentiel des communes et départements (paquet @etalab/decoupage-administratif)."

    def add_arguments(self, parser):
        parser.add_argument("--note", default="", help="Pourquoi cet import (gardé avec la version).")

    def handle(self, *args, note="", **options):
        try:
            version = import_referential(note=note)
        except ReferentialMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Référentiel des communes : version {version.number} ({version.source_name}), "
            f"{version.department_count} départements, {version.commune_count} communes."
        )

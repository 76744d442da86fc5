from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from passnum.territories.selectors import latest_version
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
        except IntegrityError:
            # Another process (a second web container) imported the same edition at the same moment.
            version = latest_version()
        self.stdout.write(
            f"Référentiel des communes : version {version.number} ({version.source_name}), "
            f"{version.department_count} départements, {version.commune_count} communes."
        )

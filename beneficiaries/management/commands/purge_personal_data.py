from django.core.management.base import BaseCommand

from beneficiaries import services


class Command(BaseCommand):
    help = (
        "Efface les données personnelles des bénéficiaires dont le programme a pris fin "
        "depuis plus que la durée de conservation."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="Durée de conservation en jours (par défaut : réglage)."
        )

    def handle(self, *args, days=None, **options):
        count = services.purge_personal_data(days=days)
        self.stdout.write(f"{count} bénéficiaire(s) anonymisé(s).")

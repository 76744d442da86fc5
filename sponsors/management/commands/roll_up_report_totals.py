from django.core.management.base import BaseCommand

from beneficiaries import services as beneficiary_services
from mediators.redemption import services as redemption_services
from passnum import rollup


class Command(BaseCommand):
    help = (
        "Calcule les totaux des rapports des programmes (encaissements et remises) pour les jours "
        "qui ne peuvent plus changer ; sans danger à relancer. Ce que fait la tâche de chaque nuit."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Efface les totaux et les recalcule depuis le début (après une correction de données datées).",
        )

    def handle(self, *args, rebuild=False, **options):
        if not rollup.is_supported():
            self.stdout.write("Base de données sans totaux (SQLite) : les rapports se calculent en direct.")
            return
        for name, service in (("Encaissements", redemption_services), ("Remises", beneficiary_services)):
            result = service.roll_up_totals(rebuild=rebuild)
            if result["closed_before"] is None:
                self.stdout.write(f"{name} : totaux déjà à jour.")
            else:
                self.stdout.write(f"{name} : totaux arrêtés avant le {result['closed_before']:%d/%m/%Y %H:%M}.")

"""``python manage.py check_ledger [--programme ID]``: each programme's conservation, in euros;
exits with status 1 when any programme does not balance."""

from django.core.management.base import BaseCommand, CommandError

from clearing.selectors import ledger
from sponsors.selectors import programmes_with_ids


def plain_euros(cents):
    return f"{cents / 100:.2f}"


class Command(BaseCommand):
    help = (
        "Vérifie, pour chaque programme, que la valeur commandée égale la somme des pass créés, actifs, "
        "encaissés non réglés, réglés, expirés et annulés."
    )

    def add_arguments(self, parser):
        parser.add_argument("--programme", type=int, help="identifiant d'un seul programme")

    def handle(self, *args, programme=None, **options):
        only = None
        if programme is not None:
            only = programmes_with_ids([programme]).first()
            if only is None:
                raise CommandError(f"Aucun programme n'a l'identifiant {programme}.")
        lines = ledger(programme=only)
        columns = ["commandé", "créés", "actifs", "encaissés non réglés", "réglés", "expirés", "annulés", "écart"]
        unbalanced = 0
        for line in lines:
            figures = [line.ordered, *(getattr(line, c) for c in line.COLUMNS), line.difference]
            self.stdout.write(f"{line.programme} — {line.sponsor}")
            self.stdout.write(
                "  " + " ; ".join(f"{name} {plain_euros(v)} €" for name, v in zip(columns, figures, strict=True))
            )
            self.stdout.write(f"  dont versé aux structures (relevés payés) {plain_euros(line.paid_to_sites)} €")
            if line.returned_by_bank:
                self.stdout.write(
                    f"  dont retourné par la banque après paiement, à verser de nouveau "
                    f"{plain_euros(line.returned_by_bank)} €"
                )
            if line.payout_excess:
                self.stdout.write(
                    f"  versé ou à reverser au-delà des encaissements réglés : {plain_euros(line.payout_excess)} €"
                )
            if line.redeemed_difference:
                self.stdout.write(
                    f"  pass à l'état encaissé {plain_euros(line.redeemed_passes)} € ≠ encaissements "
                    f"{plain_euros(line.redeemed_unsettled + line.settled)} € "
                    f"(écart {plain_euros(line.redeemed_difference)} €)"
                )
            if not line.is_balanced:
                unbalanced += 1
                self.stdout.write(self.style.ERROR("  ÉCART"))
        if unbalanced:
            raise CommandError(f"{unbalanced} programme(s) sur {len(lines)} ne sont pas équilibrés.")
        self.stdout.write(self.style.SUCCESS(f"{len(lines)} programme(s) équilibrés."))

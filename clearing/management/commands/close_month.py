from django.core.management.base import BaseCommand, CommandError

from clearing import services
from passnum.errors import DomainError


class Command(BaseCommand):
    help = "Clôt un mois (AAAA-MM) : un relevé de remboursement par structure. Sans risque à relancer."

    def add_arguments(self, parser):
        parser.add_argument("month", help="le mois à clore, AAAA-MM (par exemple 2026-10)")

    def handle(self, *args, month, **options):
        try:
            result = services.close_month(month=month)
        except DomainError as error:
            raise CommandError(f"{error.message} ({error.code})") from error
        self.stdout.write(result.message)

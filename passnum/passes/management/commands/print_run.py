"""``python manage.py print_run <order>``: the print run of a paid order, from the shell.

Runs the same job as the Celery task, in this process: the proof (BAT) if there is none yet
(approved by the person running the command), then every chunk not yet printed.
"""

from django.core.management.base import BaseCommand, CommandError

from passnum.errors import DomainError
from passnum.passes import services
from sponsors.models import Order


class Command(BaseCommand):
    help = "Imprime les carnets d'une commande payée (BAT puis tirage complet), dans ce processus."

    def add_arguments(self, parser):
        parser.add_argument("order", type=int, help="identifiant de la commande (celui de son adresse dans l'admin)")
        parser.add_argument("--chunk-size", type=int, default=50, help="carnets par fichier PDF (50 par défaut)")

    def handle(self, *args, order, chunk_size, **options):
        try:
            order = Order.objects.select_related("programme").get(pk=order)
        except Order.DoesNotExist as error:
            raise CommandError(f"Aucune commande n'a l'identifiant {order} (il n'existe pas).") from error
        if not 1 <= chunk_size <= 500:
            raise CommandError("--chunk-size doit être compris entre 1 et 500.")
        try:
            run = services.print_order_inline(order, chunk_size=chunk_size)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Impression de la commande {order.number} : {run.done_booklets} / {run.total_booklets} carnets."
        )
        for print_file in run.files.all():
            try:
                where = print_file.file.path
            except NotImplementedError:  # an object store: the name in the bucket
                where = print_file.file.name
            self.stdout.write(f"  {where}")

from django.core.management.base import BaseCommand

from passnum import outbox


class Command(BaseCommand):
    help = "Envoie à la file Celery les tâches gardées pendant une panne de Redis."

    def handle(self, *args, **options):
        sent = outbox.drain()
        left = outbox.pending_count()
        self.stdout.write(f"{sent} tâche(s) envoyée(s), {left} en attente.")
        if left:
            raise SystemExit(1)

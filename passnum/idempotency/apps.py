from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "passnum.idempotency"
    label = "idempotency"
    verbose_name = "Clés d'idempotence"

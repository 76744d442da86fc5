from django.apps import AppConfig


class MediatorsConfig(AppConfig):
    name = "mediators"
    verbose_name = "Structures de médiation"

    def ready(self):
        from django.db.backends.signals import connection_created

        from mediators.places.search import register_sqlite_functions

        # The finder's accent-insensitive commune search on the embedded default (SQLite).
        connection_created.connect(register_sqlite_functions, dispatch_uid="mediators_sqlite_functions")

from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "sponsors.grants"
    label = "grants"
    verbose_name = "Subvention Pass numérique entreprises"

    def ready(self):
        from sponsors.grants import receivers  # noqa: F401 - connects the payment batches' signals

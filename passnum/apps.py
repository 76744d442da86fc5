from django.apps import AppConfig


class PassnumConfig(AppConfig):
    name = "passnum"
    verbose_name = "Passnum"

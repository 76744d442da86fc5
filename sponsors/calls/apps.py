from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "sponsors.calls"
    label = "calls"
    verbose_name = "Appels à projets et cofinancement"

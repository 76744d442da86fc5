from django.apps import AppConfig


class MediatorsConfig(AppConfig):
    name = "mediators"
    verbose_name = "Structures de médiation"

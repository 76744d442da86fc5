from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "sponsors.reporting"
    label = "reporting"
    verbose_name = "Rapports et exports"

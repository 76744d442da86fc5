from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "passnum.audit"
    label = "audit"
    verbose_name = "Journal d'audit"

from django.apps import AppConfig


class PayeesConfig(AppConfig):
    name = "clearing.payees"
    label = "payees"
    verbose_name = "Comptes de versement"

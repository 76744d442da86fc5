from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "passnum.accounts"
    label = "accounts"
    verbose_name = "Comptes"

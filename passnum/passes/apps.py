from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "passnum.passes"
    label = "passes"
    verbose_name = "Carnets et pass"

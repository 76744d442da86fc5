from django.apps import AppConfig


class NumberingConfig(AppConfig):
    name = "passnum.numbering"
    label = "numbering"
    verbose_name = "Numérotation des documents"

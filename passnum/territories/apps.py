from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "passnum.territories"
    label = "territories"
    verbose_name = "Communes et départements"

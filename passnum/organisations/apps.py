from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "passnum.organisations"
    label = "organisations"
    verbose_name = "Organisations"

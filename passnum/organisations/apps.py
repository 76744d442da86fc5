from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "passnum.organisations"
    label = "organisations"
    verbose_name = "Organisations"

    def ready(self):
        from passnum.organisations import signals  # noqa: F401 - connects the receivers

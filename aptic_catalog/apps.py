from django.apps import AppConfig


class ApticCatalogConfig(AppConfig):
    name = "aptic_catalog"
    verbose_name = "Référentiel #APTIC"

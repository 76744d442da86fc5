from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "sponsors.grants"
    label = "grants"
    verbose_name = "Subvention Pass numérique entreprises"

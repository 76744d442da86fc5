from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "clearing.payments"
    label = "payments"
    verbose_name = "Virements aux structures et autres bénéficiaires"

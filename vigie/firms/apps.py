from django.apps import AppConfig


class FirmsConfig(AppConfig):
    name = "vigie.firms"
    label = "firms"
    verbose_name = "Cabinets"

from django.apps import AppConfig


class RegistriesConfig(AppConfig):
    name = "vigie.registries"
    label = "registries"
    verbose_name = "Registres"

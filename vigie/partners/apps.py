from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "vigie.partners"
    label = "partners"
    verbose_name = "Partenaires"

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "vigie.clients"
    label = "clients"
    verbose_name = "Clients"

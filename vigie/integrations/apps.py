from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "vigie.integrations"
    label = "integrations"

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "vigie.exports"
    label = "exports"

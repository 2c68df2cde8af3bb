from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "vigie.imports"
    label = "imports"

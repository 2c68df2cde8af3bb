from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo portfolio (`vigie demo`, `make run`): data built on top of every feature,
    kept out of the runtime apps. It has no models."""

    name = "vigie.demo"
    label = "demo"
    verbose_name = "Démonstration"

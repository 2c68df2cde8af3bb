from __future__ import annotations

from django.apps import AppConfig


class ReformConfig(AppConfig):
    name = "vigie.reform"
    label = "reform"
    verbose_name = "Réforme de la facturation électronique"

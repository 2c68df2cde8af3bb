from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "vigie.campaigns"
    label = "campaigns"
    verbose_name = "Campagnes réforme"

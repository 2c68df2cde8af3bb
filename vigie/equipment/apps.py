from django.apps import AppConfig


class EquipmentConfig(AppConfig):
    name = "vigie.equipment"
    label = "equipment"
    verbose_name = "Équipement"

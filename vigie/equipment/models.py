from __future__ import annotations

from django.conf import settings
from django.db import models

from vigie.clients import directory, rowversion


class Group(models.TextChoices):
    CEGID = "cegid", "SOLUTIONS CEGID"
    OTHERS = "autres", "AUTRES"


class Slot(models.TextChoices):
    ACHAT = "achat", "Achat"
    VENTE = "vente", "Vente"
    CAISSE = "caisse", "Caisse"


class Solution(models.Model):
    """An entry of the solutions catalogue, shared by every firm."""

    slug = models.SlugField(unique=True)
    name = models.CharField("nom", max_length=100)
    group = models.CharField("groupe", max_length=10, choices=Group.choices, default=Group.OTHERS)
    description = models.CharField(max_length=200, blank=True)
    for_achat = models.BooleanField("achat", default=False)
    for_vente = models.BooleanField("vente", default=False)
    for_caisse = models.BooleanField("caisse", default=False)
    for_collecte = models.BooleanField("collecte", default=False)
    # A partner solution is activated through an invitation (Shine), not just declared.
    is_partner = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["group", "position", "name"]
        triggers = directory.catalogue_triggers()

    def __str__(self) -> str:
        return self.name

    @property
    def offers_achat_ventes(self) -> bool:
        """The « Achat & Ventes » choice of the equipment dialog."""
        return self.for_achat and self.for_vente

    @property
    def offers_achats(self) -> bool:
        """The « Achats » choice of the equipment dialog."""
        return self.for_achat


class EquipmentQuerySet(models.QuerySet["Equipment"]):
    def for_firm(self, firm) -> EquipmentQuerySet:
        return self.filter(firm=firm)


class Equipment(models.Model):
    """A solution filling one slot (achat, vente, caisse) of a client. Several allowed."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="equipment")
    solution = models.ForeignKey(Solution, on_delete=models.PROTECT, related_name="+")
    slot = models.CharField(max_length=10, choices=Slot.choices)
    # For partner solutions, the plan chosen (Shine « Plus », « Start », « Easy »).
    plan = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EquipmentQuerySet.as_manager()

    class Meta:
        verbose_name = "équipement"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "slot", "solution"], name="equipment_unique_per_slot"
            ),
        ]
        indexes = [models.Index(fields=["firm", "slot", "solution"], name="equipment_firm_slot")]
        triggers = rowversion.touch_triggers()

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.solution.name} {self.plan}".strip()

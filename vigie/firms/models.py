from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Firm(models.Model):
    """An accounting firm (cabinet): the tenant."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("nom", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "cabinet"

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    COLLABORATOR = "collaborateur", "Collaborateur"


class Membership(models.Model):
    """A collaborator's place in a firm. One firm per sign-in account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("rôle", max_length=20, choices=Role.choices, default=Role.COLLABORATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "appartenance"
        indexes = [models.Index(fields=["firm", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.firm} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

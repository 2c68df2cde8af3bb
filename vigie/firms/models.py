from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Firm(models.Model):
    """An accounting firm (cabinet): the tenant."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("nom", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    # Lifecycle of Shine invitations (Paramètres > Invitations).
    invitation_expiry_days = models.PositiveSmallIntegerField(
        "expiration des invitations (jours)", default=30
    )
    first_reminder_days = models.PositiveSmallIntegerField("première relance (jours)", default=7)
    second_reminder_days = models.PositiveSmallIntegerField("seconde relance (jours)", default=14)

    class Meta:
        verbose_name = "cabinet"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invitation_expiry_days__gte=1)
                & models.Q(first_reminder_days__gte=1)
                & models.Q(second_reminder_days__gt=models.F("first_reminder_days"))
                & models.Q(invitation_expiry_days__gt=models.F("second_reminder_days")),
                name="firm_invitation_lifecycle_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FirmQuerySet(models.QuerySet):
    """The manager of every model with a `firm`: `Model.objects.for_firm(firm)`."""

    def for_firm(self, firm):
        return self.filter(firm=firm)


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

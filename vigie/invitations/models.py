from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Plan(models.TextChoices):
    EASY = "easy", "Easy"
    START = "start", "Start"
    PLUS = "plus", "Plus"


class BillingMode(models.TextChoices):
    SHINE = "shine", "Shine"
    CABINET = "cabinet", "Cabinet"


class Status(models.TextChoices):
    DRAFT = "brouillon", "Brouillon"
    PENDING = "en_attente", "Envoi en attente"
    SENT = "envoyee", "Envoyée"
    ACTIVATED = "activee", "Activée"
    FAILED = "echec", "Échec d'envoi"
    CANCELLED = "annulee", "Annulée"
    EXPIRED = "expiree", "Expirée"


# An email holds at most one Shine account, ever: these states keep it taken.
EMAIL_HOLDING_STATUSES = [Status.PENDING, Status.SENT, Status.ACTIVATED]


class SendMethod(models.TextChoices):
    VIGIE = "vigie", "Envoyer par Vigie"
    MAILTO = "mailto", "J'envoie"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def for_firm(self, firm) -> InvitationQuerySet:
        return self.filter(firm=firm)


class Invitation(models.Model):
    """An invitation to open a Shine account: a durable row with a lifecycle.

    `client` is empty for a firm's own test account.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    contact = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(max_length=254)
    plan = models.CharField(max_length=10, choices=Plan.choices)
    billing_mode = models.CharField(max_length=10, choices=BillingMode.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    send_method = models.CharField(max_length=10, choices=SendMethod.choices, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(status__in=EMAIL_HOLDING_STATUSES),
                name="invitation_one_live_per_email",
            ),
        ]
        indexes = [models.Index(fields=["firm", "status"], name="invitation_firm_status")]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_status_display()})"

"""Reform campaigns: one e-mail of one kind sent to a selection of clients, followed
through a funnel.

A campaign is durable state the worker pushes along: one `Target` row per client, with
its status and attempts. A target is sent in the same transaction as the outbox row its
e-mail becomes, so a worker killed at any point leaves either both or neither, and the
next run skips what is done (`Target.status`, `Target.reminded_round`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from vigie.firms.models import FirmQuerySet


class Kind(models.TextChoices):
    SENSITISATION = "sensibilisation", "Sensibilisation"
    MANDATE = "mandat", "Mandat"
    SHINE = "shine", "Invitation Shine"


class State(models.TextChoices):
    SENDING = "en_cours", "Envoi en cours"
    PAUSED = "en_pause", "En pause"
    DONE = "terminee", "Envois terminés"


class Campaign(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    name = models.CharField("nom", max_length=120)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENDING)
    # The wording sent, frozen at launch (the firm's template then): what the preview
    # showed is what every client receives. Empty for a mandate (its e-mail is fixed).
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    plan = models.CharField(max_length=10, blank=True)  # Shine
    billing_mode = models.CharField(max_length=10, blank=True)  # Shine
    # The portfolio's query string the selection came from (shown, never re-run).
    source_query = models.CharField(max_length=2000, blank=True)
    total = models.PositiveIntegerField(default=0)
    # Reminder rounds asked for (« Relancer les non-répondants »).
    reminder_round = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by each slice of a run: the sweeper restarts a campaign whose run went quiet.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        verbose_name = "campagne"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["firm", "-created_at"], name="campaign_firm_created")]

    def __str__(self) -> str:
        return self.name


class TargetStatus(models.TextChoices):
    PENDING = "en_attente", "En attente"
    SENT = "envoye", "Envoyé"
    BLOCKED = "bloque", "Bloqué"
    FAILED = "echec", "Échec"


class Target(models.Model):
    """One client of a campaign: what was sent to it, and when."""

    # No index of their own: (campaign, client) serves both, and a lone firm_id or
    # campaign_id index tempted the planner into ANDing bitmaps of the firm's targets.
    firm = models.ForeignKey(
        "firms.Firm", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="targets", db_index=False
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=TargetStatus.choices, default=TargetStatus.PENDING
    )
    # Why it is blocked (a French reason), or the last unexpected error.
    reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The first time the client opened its e-mail's personal link, on a human signal
    # (vigie.campaigns.tracking): sensibilisation and Shine. A mandate's is its own.
    opened_at = models.DateTimeField(null=True, blank=True)
    email = models.ForeignKey(
        "mail.OutboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mandate = models.ForeignKey(
        "reform.Mandate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invitation = models.ForeignKey(
        "invitations.Invitation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Reminders: the round this target is due (set by « Relancer ») and the last one done.
    remind_round = models.PositiveIntegerField(default=0)
    reminded_round = models.PositiveIntegerField(default=0)
    reminders = models.PositiveSmallIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        verbose_name = "client d'une campagne"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "client"], name="campaign_target_unique")
        ]
        indexes = [
            # The worker's next chunk: pending targets of a campaign, in order.
            models.Index(
                fields=["campaign", "id"],
                name="campaign_target_pending",
                condition=Q(status="en_attente"),
            ),
            # Reminders due.
            models.Index(
                fields=["campaign", "id"],
                name="campaign_target_remind",
                condition=Q(remind_round__gt=models.F("reminded_round")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.client_id} ({self.get_status_display()})"

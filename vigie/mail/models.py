from __future__ import annotations

import base64

from django.db import models

IDEMPOTENCY_CONSTRAINT = "outbound_firm_idempotency_key"


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "En attente"
    SENDING = "sending", "En cours d'envoi"
    SENT = "sent", "Envoyé"
    FAILED = "failed", "Échec d'envoi"


class OutboundEmail(models.Model):
    """One email to send, durable: the row is the truth, tasks only push it along.

    `message_id` is fixed at creation, so a resend after a crash carries the same
    Message-ID and the receiving side can tell it is the same message.

    `idempotency_key`, when the caller gives one, names the e-mail within its firm
    (« campaign-target:12:send »): queueing the same key again returns this row.
    """

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=40, blank=True)
    to = models.CharField(max_length=254)
    from_name = models.CharField(max_length=200, blank=True)
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    # [{"filename": ..., "content_type": ..., "base64": ...}]
    attachments = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=250, unique=True)
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "e-mail sortant"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due"),
            models.Index(fields=["firm", "-created_at"], name="outbound_firm_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["firm", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name=IDEMPOTENCY_CONSTRAINT,
            )
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject} ({self.get_status_display()})"

    def decoded_attachments(self) -> list[tuple[str, bytes, str]]:
        return [
            (a["filename"], base64.b64decode(a["base64"]), a["content_type"])
            for a in self.attachments
        ]

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _fernet() -> MultiFernet:
    """Encrypts with SECRET_KEY, decrypts with it or any of SECRET_KEY_FALLBACKS: rotating
    SECRET_KEY must not cut off the webhooks of every invitation already sent."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    hashlib.sha256(b"vigie.partners.webhook:" + key.encode()).digest()
                )
            )
            for key in keys
        ]
    )


class PartnerState(models.TextChoices):
    PENDING = "en_attente", "En attente partenaire"
    CREATED = "creee", "Créée chez le partenaire"
    REFUSED = "refusee", "Refusée par le partenaire"
    CANCELLED = "annulee", "Annulée chez le partenaire"


class PartnerLink(models.Model):
    """The partner's side of one invitation: durable state of the calls made for it.

    Creating the partner invitation is retried from this row (attempts, next attempt)
    with the invitation's public id as the idempotency key, so a crash between the call
    and this record can never create a second invitation at the partner.
    """

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    invitation = models.OneToOneField(
        "invitations.Invitation", on_delete=models.CASCADE, related_name="partner"
    )
    state = models.CharField(
        max_length=12, choices=PartnerState.choices, default=PartnerState.PENDING
    )
    partner_invitation_id = models.CharField(max_length=100, blank=True)
    onboarding_url = models.URLField(max_length=500, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    account_active = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # `created` of the last webhook applied: older events change nothing.
    last_event_at = models.BigIntegerField(default=0)
    # The secret the partner signs this invitation's webhooks with, sent to it in the
    # creation call, so that one leaked secret forges events for one invitation only.
    # Encrypted (verifying an HMAC needs the secret itself). Empty on links created before
    # links had their own: SHINE_WEBHOOK_SECRET signs theirs.
    encrypted_webhook_secret = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="partnerlink_due")]

    def __str__(self) -> str:
        return f"{self.invitation_id} ({self.state})"

    @staticmethod
    def new_encrypted_webhook_secret() -> str:
        return _fernet().encrypt(secrets.token_hex(32).encode()).decode()

    @property
    def webhook_secret(self) -> str | None:
        """The raw secret; "" when the link has none (the global secret applies); None
        when it cannot be decrypted (SECRET_KEY changed, the old one not in fallbacks)."""
        if not self.encrypted_webhook_secret:
            return ""
        try:
            return _fernet().decrypt(self.encrypted_webhook_secret.encode()).decode()
        except InvalidToken:
            return None


class WebhookEvent(models.Model):
    """Every webhook event received once: a second delivery of the same id is a no-op."""

    event_id = models.CharField(max_length=100, unique=True)
    # The firm of the invitation it concerns (every tenant table carries the firm).
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=40)
    created = models.BigIntegerField()
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    applied = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"

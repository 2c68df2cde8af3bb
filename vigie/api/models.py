from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from vigie.firms.models import FirmQuerySet

KEY_PREFIX = "vk_"


def hash_key(raw: str) -> str:
    """Keys carry 256 bits of randomness: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Credential(models.Model):
    """What a firm's admin gives a production tool (an API key, an integration secret):
    named, shown once at creation, revocable."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("nom", max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class ApiKey(Credential):
    """A firm's key for the HTTP API. Only its hash is stored; the key is shown once."""

    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)

    class Meta(Credential.Meta):
        verbose_name = "clé d'API"

    @staticmethod
    def new_raw_key() -> str:
        return KEY_PREFIX + secrets.token_urlsafe(32)


class IdempotencyRecord(models.Model):
    """The stored response of a POST sent with an `Idempotency-Key` header."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_unique_per_key")
        ]

    def __str__(self) -> str:
        return self.key

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models

from vigie.api.models import Credential
from vigie.firms.models import FirmQuerySet


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"vigie.integrations.secret:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class IntegrationSecretQuerySet(FirmQuerySet):
    def live(self) -> IntegrationSecretQuerySet:
        return self.filter(revoked_at__isnull=True)


class IntegrationSecret(Credential):
    """The secret a production tool signs launch links with.

    Verifying an HMAC needs the secret itself, so a hash cannot be stored. It is kept
    encrypted with a key derived from SECRET_KEY: a copy of the database alone does not
    reveal it (rotating SECRET_KEY means creating new integration secrets).
    """

    encrypted = models.TextField()
    hint = models.CharField(max_length=12)

    objects = IntegrationSecretQuerySet.as_manager()

    class Meta(Credential.Meta):
        verbose_name = "secret d'intégration"

    @staticmethod
    def new_raw_secret() -> str:
        return secrets.token_hex(32)

    def set_secret(self, raw: str) -> None:
        self.encrypted = _fernet().encrypt(raw.encode()).decode()
        self.hint = raw[:6]

    def get_secret(self) -> str | None:
        try:
            return _fernet().decrypt(self.encrypted.encode()).decode()
        except InvalidToken:  # SECRET_KEY changed since the secret was created
            return None


class LaunchNonce(models.Model):
    """A nonce already used by a launch link: each link works once."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=100)
    used_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["firm", "nonce"], name="launch_nonce_single_use")
        ]
        indexes = [models.Index(fields=["expires_at"], name="launch_nonce_expiry")]

    def __str__(self) -> str:
        return self.nonce

"""Secrets that Vigie must read back (to call a partner with them), so cannot hash: kept
encrypted with a key derived from SECRET_KEY (Fernet: AES-128-CBC and HMAC-SHA256), one
key per purpose. A copy of the database alone does not reveal them; rotating SECRET_KEY
makes them unreadable (they are entered again)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet(purpose: str) -> Fernet:
    digest = hashlib.sha256(f"vigie.{purpose}:".encode() + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(purpose: str, raw: str) -> str:
    return _fernet(purpose).encrypt(raw.encode()).decode()


def decrypt(purpose: str, encrypted: str) -> str | None:
    """The secret, or None when it cannot be read (SECRET_KEY changed, or tampered)."""
    try:
        return _fernet(purpose).decrypt(encrypted.encode()).decode()
    except (InvalidToken, ValueError):
        return None

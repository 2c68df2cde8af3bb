"""Invitation links: `<invitation public id>-<timestamp>-<hmac>`.

Signed (HMAC with SECRET_KEY), expiring (INVITATION_TOKEN_DAYS, 30 by default) and
single-use: the hash covers the invitation's id, email and state, so once the
invitation is activated, cancelled or expired, every link to it stops working —
the idea of Django's PasswordResetTokenGenerator.
"""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

KEY_SALT = "vigie.invitations.tokens"
DEFAULT_DAYS = 30


def _state(invitation) -> str:
    return "open" if invitation.is_open else invitation.status


def _hash(invitation, ts: int, state: str | None = None) -> str:
    state = state or _state(invitation)
    value = f"{invitation.pk}:{invitation.public_id}:{invitation.email.lower()}:{state}:{ts}"
    return salted_hmac(KEY_SALT, value, algorithm="sha256").hexdigest()[:32]


def make_token(invitation, *, now: float | None = None) -> str:
    ts = int(now if now is not None else time.time())
    return f"{invitation.public_id.hex}-{int_to_base36(ts)}-{_hash(invitation, ts)}"


def parse_token(token: str) -> tuple[uuid.UUID, int, str] | None:
    try:
        public_hex, ts_b36, mac = token.split("-")
        return uuid.UUID(hex=public_hex), base36_to_int(ts_b36), mac
    except (ValueError, TypeError):
        return None


def check_token(invitation, token: str, *, now: float | None = None) -> bool:
    parsed = parse_token(token)
    if parsed is None or parsed[0] != invitation.public_id:
        return False
    _, ts, mac = parsed
    if not constant_time_compare(_hash(invitation, ts), mac):
        return False
    days = getattr(settings, "INVITATION_TOKEN_DAYS", DEFAULT_DAYS)
    return (now if now is not None else time.time()) - ts <= days * 86400


def was_issued(invitation, token: str) -> bool:
    """The token is one we made for this invitation while it was open, whatever its
    state and age now: enough to tell its client that the account is already active."""
    parsed = parse_token(token)
    if parsed is None or parsed[0] != invitation.public_id:
        return False
    _, ts, mac = parsed
    return constant_time_compare(_hash(invitation, ts, "open"), mac)

"""Signed webhooks from the partner to the console (docs/partner-api.md §Webhooks)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.models import PartnerInvitation, WebhookDelivery

log = logging.getLogger(__name__)
BACKOFF = [5, 15, 60, 300, 900, 3600]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def emit(event_type: str, invitation: PartnerInvitation, data: dict) -> WebhookDelivery:
    """Record an event about an invitation and try to deliver it once the transaction
    commits, signed with the secret the console sent with that invitation."""
    event_id = "evt_" + secrets.token_hex(12)
    body = json.dumps(
        {"id": event_id, "type": event_type, "created": int(time.time()), "data": data},
        separators=(",", ":"),
    )
    delivery = WebhookDelivery.objects.create(
        event_id=event_id, type=event_type, body=body, secret=invitation.webhook_secret
    )
    transaction.on_commit(lambda: deliver(delivery.pk))
    return delivery


def deliver(pk: int) -> bool:
    delivery = WebhookDelivery.objects.get(pk=pk)
    if delivery.delivered_at:
        return True
    body = delivery.body.encode()
    request = urllib.request.Request(
        settings.SANDBOX_WEBHOOK_URL,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Shine-Signature": sign(
                delivery.secret or settings.SANDBOX_WEBHOOK_SECRET, int(time.time()), body
            ),
        },
    )
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            ok = 200 <= response.status < 300
            error = "" if ok else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        ok, error = False, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        ok, error = False, str(exc)[:300]
    if ok:
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
    else:
        delay = BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        delivery.last_error = error
        log.warning("webhook %s not delivered: %s", delivery.event_id, error)
    delivery.save()
    return ok


def deliver_due() -> int:
    """Retry every undelivered event whose next attempt is due. Returns how many succeeded."""
    due = WebhookDelivery.objects.filter(
        delivered_at__isnull=True, next_attempt_at__lte=timezone.now()
    )
    return sum(deliver(pk) for pk in due.values_list("pk", flat=True))

"""After sending a mandate: automatic reminders, then expiry.

Run periodically by `vigie sweep` (`mandates_lifecycle`), with the clock passed in.

- Reminders, at MANDATE_REMINDER_DAYS after sending (« 3,7,14 » by default), to the
  mandate's signer with the same signing link, while it can still be signed online
  (sent or opened, within its link's validity). Each is claimed with a conditional UPDATE
  of `Mandate.reminders_sent`, and its row (mandate, number) is unique: two sweeps at
  once, or a sweep re-run after a crash, queue a reminder once. The e-mail row is written
  in the same transaction, so a worker killed in between leaves neither; its outbox key,
  « mandate:<id>:reminder:<n> », says the same to the outbox.
- Expiry: a mandate still awaiting signature when its link's validity
  (MANDATE_LINK_DAYS) has passed becomes *Mandat expiré*, and so does its client.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import formats, timezone

from vigie.clients import history
from vigie.clients.models import Client, MandateStatus
from vigie.reform import mailer, tokens
from vigie.reform.models import AWAITING, REMINDABLE, Mandate, MandateReminder, MandateState

DEFAULT_REMINDER_DAYS = "3,7,14"


def reminder_days() -> list[int]:
    """MANDATE_REMINDER_DAYS as sorted days after sending (a « 3,7,14 » string or a list)."""
    value = getattr(settings, "MANDATE_REMINDER_DAYS", DEFAULT_REMINDER_DAYS)
    items = value.split(",") if isinstance(value, str) else list(value)
    try:
        days = sorted({int(str(item).strip()) for item in items if str(item).strip()})
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"MANDATE_REMINDER_DAYS: whole days expected, not {value!r}"
        ) from exc
    if any(day <= 0 for day in days):
        raise ImproperlyConfigured(f"MANDATE_REMINDER_DAYS: days must be positive, not {value!r}")
    return days


def next_reminder_at(mandate: Mandate) -> datetime | None:
    """When the next automatic reminder is due, or None (no more, or not remindable)."""
    if mandate.state not in REMINDABLE or mandate.sent_at is None:
        return None
    expires = tokens.expires_at(mandate.sent_at)
    for number, days in enumerate(reminder_days(), start=1):
        due = mandate.sent_at + timedelta(days=days)
        if number > mandate.reminders_sent and due < expires:
            return due
    return None


def mandate_remind(*, mandate_id: int, number: int, now: datetime) -> bool:
    """Queue reminder `number` of the mandate, once. False when it was no longer due
    (signed, revoked, locked, expired, or this reminder already sent)."""
    with transaction.atomic():
        # The client's row first, as every mandate workflow (signing, revoking) locks it
        # before the mandate's: no deadlock with a signature at the same moment.
        client_id = Mandate.objects.filter(pk=mandate_id).values_list("client_id", flat=True)
        Client.objects.select_for_update().filter(pk__in=client_id).first()
        claimed = Mandate.objects.filter(
            pk=mandate_id,
            state__in=REMINDABLE,
            reminders_sent__lt=number,
            sent_at__gt=now - timedelta(days=tokens.link_days()),
        ).update(reminders_sent=number)
        if not claimed:
            return False
        mandate = Mandate.objects.select_related("client__firm", "created_by").get(pk=mandate_id)
        reminder = MandateReminder.objects.create(
            firm_id=mandate.firm_id, mandate=mandate, number=number, sent_at=now
        )
        email = mailer.send_reminder(
            mandate=mandate,
            number=number,
            idempotency_key=f"mandate:{mandate.pk}:reminder:{number}",
        )
        reminder.email_id = str(email.pk)
        reminder.save(update_fields=["email_id"])
        history.record(
            mandate.client,
            actor=None,
            kind="reform.mandate_reminded",
            summary=f"Relance automatique n° {number} du mandat envoyée à "
            f"{mandate.representative} ({mandate.representative_email})",
        )
    return True


def _remind_due(now: datetime) -> int:
    count = 0
    link_start = now - timedelta(days=tokens.link_days())
    steps = list(enumerate(reminder_days(), start=1))
    for number, days in reversed(steps):  # the latest due first: one e-mail, earlier ones done
        due = (
            Mandate.objects.filter(
                state__in=REMINDABLE,
                reminders_sent__lt=number,
                sent_at__lte=now - timedelta(days=days),
                sent_at__gt=link_start,
            )
            .order_by("sent_at")
            .values_list("pk", flat=True)
        )
        count += sum(mandate_remind(mandate_id=pk, number=number, now=now) for pk in list(due))
    return count


def mandate_expire(*, mandate_id: int, now: datetime) -> bool:
    """Mark the mandate *expiré* if it still awaits signature past its link's validity;
    its client too when it is the client's mandate. False when nothing changed."""
    with transaction.atomic():
        mandate = Mandate.objects.select_related("client").get(pk=mandate_id)
        client = Client.objects.locked(mandate.client)
        claimed = Mandate.objects.filter(
            pk=mandate_id,
            state__in=AWAITING,
            sent_at__lte=now - timedelta(days=tokens.link_days()),
        ).update(state=MandateState.EXPIRED, expired_at=now)
        if not claimed:
            return False
        latest = client.mandates.filter(firm_id=client.firm_id).issued().first()
        changes = {}
        if latest is not None and latest.pk == mandate_id:
            before = history.snapshot(client, ["mandate_status"])
            client.mandate_status = MandateStatus.EXPIRED
            client.save(update_fields=["mandate_status"])
            changes = history.diff(before, client)
        sent = formats.date_format(timezone.localtime(mandate.sent_at), "d/m/Y")
        history.record(
            client,
            actor=None,
            kind="reform.mandate_expired",
            summary=f"Mandat expiré : envoyé le {sent}, non signé dans les "
            f"{tokens.link_days()} jours de validité du lien",
            changes=changes,
        )
    return True


def _expire_due(now: datetime) -> int:
    due = (
        Mandate.objects.filter(
            state__in=AWAITING, sent_at__lte=now - timedelta(days=tokens.link_days())
        )
        .order_by("sent_at")
        .values_list("pk", flat=True)
    )
    return sum(mandate_expire(mandate_id=pk, now=now) for pk in list(due))


def mandates_lifecycle(*, now: datetime | None = None) -> int:
    """Expire, then remind, what is due. Returns how many mandates changed."""
    now = now or timezone.now()
    return _expire_due(now) + _remind_due(now)

"""The console's side of the partner contract: create invitations at the partner,
apply its webhooks, open access links. Network calls never run inside a transaction.

The invitation workflow (vigie.invitations) drives this connector and is never imported
here: an invitation is the row a PartnerLink belongs to, read through that relation (its
public id, firm, client, contact, address, plan, billing mode and `awaits_account`).
What the partner reports goes back as signals (vigie/partners/signals.py).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from vigie.clients import history
from vigie.clients.models import ShineStatus
from vigie.partners import tasks
from vigie.partners.models import PartnerLink, PartnerState, WebhookEvent
from vigie.partners.shine import PartnerRefused, PartnerUnavailable, ShineClient
from vigie.partners.signals import partner_account_activated, partner_invitation_expired

log = logging.getLogger(__name__)

RETRY_DELAYS = [30, 120, 600, 1800, 3600, 3 * 3600]  # settings.PARTNER_RETRY_DELAYS overrides


def _retry_delay(attempts: int) -> timedelta:
    delays = getattr(settings, "PARTNER_RETRY_DELAYS", RETRY_DELAYS)
    return timedelta(seconds=delays[min(attempts, len(delays) - 1)])


SWEEP_GRACE = timedelta(seconds=30)


class UnknownInvitation(Exception):
    pass


def _new_link(invitation: models.Model) -> dict:
    """A new link's fields: due now, with its own webhook secret."""
    return {
        "firm_id": invitation.firm_id,
        "next_attempt_at": timezone.now(),
        "encrypted_webhook_secret": PartnerLink.new_encrypted_webhook_secret(),
    }


def partner_invitation_queue(invitation: models.Model) -> PartnerLink:
    """Ask the worker to create the invitation at the partner once this transaction commits."""

    link, _ = PartnerLink.objects.get_or_create(
        invitation=invitation, defaults=_new_link(invitation)
    )
    if link.state == PartnerState.PENDING:
        transaction.on_commit(lambda: tasks.create_partner_invitation.enqueue(invitation.pk))
    return link


def partner_invitations_queue_many(invitations: list[models.Model]) -> None:
    """The same for a bulk run: one row each, one task for the lot."""

    PartnerLink.objects.bulk_create(
        [PartnerLink(invitation=i, **_new_link(i)) for i in invitations], ignore_conflicts=True
    )
    ids = [i.pk for i in invitations]
    transaction.on_commit(lambda: tasks.create_partner_invitations.enqueue(ids))


def partner_invitation_cancel_queue(invitation: models.Model) -> None:
    """The invitation is over here (cancelled, expired): close it at the partner too."""

    link = PartnerLink.objects.filter(invitation=invitation).first()
    if link is None:
        return
    if link.state == PartnerState.PENDING:
        # Never created there: the pending call will see the invitation is over.
        PartnerLink.objects.filter(pk=link.pk).update(state=PartnerState.CANCELLED)
    elif link.state == PartnerState.CREATED and not link.account_active:
        link.next_attempt_at = timezone.now()
        link.save(update_fields=["next_attempt_at", "updated_at"])
        transaction.on_commit(lambda: tasks.cancel_partner_invitation.enqueue(invitation.pk))


def partner_invitation_cancel(
    *, invitation_id: int, client: ShineClient | None = None
) -> PartnerLink:
    link = PartnerLink.objects.select_related("invitation").get(invitation_id=invitation_id)
    if link.state != PartnerState.CREATED or link.account_active:
        return link
    try:
        (client or ShineClient()).cancel_invitation(link.partner_invitation_id)
    except PartnerUnavailable as exc:
        PartnerLink.objects.filter(pk=link.pk).update(
            attempts=link.attempts + 1,
            next_attempt_at=timezone.now() + _retry_delay(link.attempts),
            last_error=str(exc)[:300],
        )
    except PartnerRefused as exc:  # unknown there: nothing left to cancel
        PartnerLink.objects.filter(pk=link.pk).update(
            state=PartnerState.CANCELLED, next_attempt_at=None, last_error=exc.code[:300]
        )
    else:
        PartnerLink.objects.filter(pk=link.pk).update(
            state=PartnerState.CANCELLED, next_attempt_at=None, last_error=""
        )
    link.refresh_from_db()
    return link


def invitation_payload(invitation: models.Model, *, webhook_secret: str = "") -> dict:
    """The body of the partner call for this invitation (docs/partner-api.md §1). A link
    without its own webhook secret sends the body it always did: a retry must send the
    same body under the same idempotency key."""
    client, contact = invitation.client, invitation.contact
    body = {
        "external_id": str(invitation.public_id),
        "firm": {"id": str(invitation.firm.public_id), "name": invitation.firm.name},
        "company": {
            "name": client.name if client else invitation.firm.name,
            "siret": client.siret if client else "",
            "legal_form": client.legal_form if client else "",
        },
        "contact": {
            "first_name": contact.first_name if contact else "",
            "last_name": contact.last_name if contact else "",
            "email": invitation.email,
        },
        "plan": invitation.plan,
        "billing_mode": invitation.billing_mode,
    }
    if webhook_secret:
        body["webhook_secret"] = webhook_secret
    return body


def partner_invitation_create(
    *, invitation_id: int, client: ShineClient | None = None
) -> PartnerLink:
    """Create the partner's invitation (idempotent by the invitation's public id)."""
    link = PartnerLink.objects.select_related(
        "invitation__client", "invitation__firm", "invitation__contact"
    ).get(invitation_id=invitation_id)
    invitation = link.invitation
    if link.state != PartnerState.PENDING:
        return link
    if not invitation.awaits_account:
        link.state = PartnerState.CANCELLED
        link.save(update_fields=["state", "updated_at"])
        return link
    webhook_secret = link.webhook_secret
    if webhook_secret is None:  # undecryptable: the partner could sign nothing we can check
        PartnerLink.objects.filter(pk=link.pk).update(
            next_attempt_at=None, last_error="secret de webhook illisible (SECRET_KEY changée)"
        )
        link.refresh_from_db()
        return link
    try:
        answer = (client or ShineClient()).create_invitation(
            invitation_payload(invitation, webhook_secret=webhook_secret),
            idempotency_key=str(invitation.public_id),
        )
    except PartnerUnavailable as exc:
        PartnerLink.objects.filter(pk=link.pk, state=PartnerState.PENDING).update(
            attempts=link.attempts + 1,
            next_attempt_at=timezone.now() + _retry_delay(link.attempts),
            last_error=str(exc)[:300],
            updated_at=timezone.now(),
        )
    except PartnerRefused as exc:
        with transaction.atomic():
            PartnerLink.objects.filter(pk=link.pk).update(
                state=PartnerState.REFUSED,
                attempts=link.attempts + 1,
                last_error=(exc.message or exc.code)[:300],
                next_attempt_at=None,
                updated_at=timezone.now(),
            )
            if invitation.client_id:
                history.record(
                    invitation.client,
                    actor=None,
                    kind="shine.partner_refused",
                    summary=f"Shine a refusé l'invitation de {invitation.email} : {exc.message or exc.code}",
                )
    else:
        PartnerLink.objects.filter(pk=link.pk).update(
            state=PartnerState.CREATED,
            attempts=link.attempts + 1,
            partner_invitation_id=str(answer["id"])[:100],
            onboarding_url=str(answer["onboarding_url"])[:500],
            next_attempt_at=None,
            last_error="",
            updated_at=timezone.now(),
        )
    link.refresh_from_db()
    return link


def partner_invitations_create_many(*, invitation_ids: list[int]) -> None:
    """A bulk run's partner calls, one after the other, without in-call retries: at the
    first sign the partner is unavailable the rest wait for their next attempt (the
    sweeper's), so an outage never holds the worker — and the emails behind it — for
    seconds per invitation."""
    shine = ShineClient(retries=0)
    for position, invitation_id in enumerate(invitation_ids):
        link = partner_invitation_create(invitation_id=invitation_id, client=shine)
        if link.state == PartnerState.PENDING:
            PartnerLink.objects.filter(
                invitation_id__in=invitation_ids[position + 1 :], state=PartnerState.PENDING
            ).update(next_attempt_at=timezone.now() + _retry_delay(0))
            return


def partner_onboarding(invitation: models.Model) -> PartnerLink:
    """The partner's side of an invitation someone is opening now: created if it can be."""
    link, _ = PartnerLink.objects.get_or_create(
        invitation=invitation, defaults=_new_link(invitation)
    )
    if link.state == PartnerState.PENDING:
        link = partner_invitation_create(
            invitation_id=invitation.pk, client=ShineClient(retries=0, timeout=3)
        )
    return link


def partners_sweep() -> int:
    """Requeue partner calls whose next attempt is due (a killed worker leaves them so)."""
    due = PartnerLink.objects.filter(next_attempt_at__lte=timezone.now() - SWEEP_GRACE)
    to_create = list(due.filter(state=PartnerState.PENDING).values_list("invitation_id", flat=True))
    # Cancelled at the partner only once the invitation no longer awaits its account.
    created = due.filter(state=PartnerState.CREATED, account_active=False)
    to_cancel = [
        link.invitation_id
        for link in created.select_related("invitation").only("invitation", "invitation__status")
        if not link.invitation.awaits_account
    ]
    count = 0
    for task, invitation_ids in (
        (tasks.create_partner_invitation, to_create),
        (tasks.cancel_partner_invitation, to_cancel),
    ):
        for invitation_id in invitation_ids:
            # Push the next attempt forward first so two sweeps don't queue it twice.
            PartnerLink.objects.filter(invitation_id=invitation_id).update(
                next_attempt_at=timezone.now() + timedelta(minutes=5)
            )
            task.enqueue(invitation_id)
            count += 1
    return count


# --- Webhooks -------------------------------------------------------------------------


def _set_client_shine(invitation: models.Model, status: str) -> None:
    client = invitation.client
    if client is not None and client.shine_status != status:
        client.shine_status = status
        client.save(update_fields=["shine_status"])


def webhook_secret_for(event) -> str | None:
    """The secret a webhook about this event must be signed with: its invitation's own,
    or SHINE_WEBHOOK_SECRET for a link without one (or an unknown invitation, which then
    gets its 404 once signed). Read from the unverified body: it only chooses the key, and
    never the global one for a link that has its own."""
    try:
        external_id = uuid.UUID(str(event["data"]["external_id"]))
    except (KeyError, TypeError, ValueError):
        external_id = None
    encrypted = (
        PartnerLink.objects.filter(invitation__public_id=external_id)
        .values_list("encrypted_webhook_secret", flat=True)
        .first()
        if external_id
        else None
    )
    if encrypted:
        return PartnerLink(encrypted_webhook_secret=encrypted).webhook_secret
    return settings.SHINE_WEBHOOK_SECRET


@transaction.atomic
def webhook_apply(event: dict) -> str:
    """Apply one verified event. Returns "applied", "duplicate" or "stale"."""
    try:
        external_id = uuid.UUID(str(event["data"]["external_id"]))
    except (KeyError, TypeError, ValueError):
        raise UnknownInvitation from None
    link = (
        PartnerLink.objects.select_for_update(of=("self",))
        .select_related("invitation__client")
        .filter(invitation__public_id=external_id)
        .first()
    )
    if link is None:
        raise UnknownInvitation
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                event_id=event["id"],
                firm_id=link.firm_id,
                type=event["type"],
                created=event["created"],
                payload=event,
            )
    except IntegrityError:
        return "duplicate"
    if event["created"] < link.last_event_at:
        return "stale"
    link.last_event_at = event["created"]
    invitation = link.invitation
    data, kind = event["data"], event["type"]
    if kind == "account.activated":
        link.account_id = str(data.get("account_id", ""))[:100]
        link.account_active = True
        link.state = PartnerState.CREATED
        link.save()
        partner_account_activated.send(sender=PartnerLink, link=link, invitation=invitation)
    elif kind == "invitation.expired":
        link.save()
        partner_invitation_expired.send(sender=PartnerLink, link=link, invitation=invitation)
    else:  # account.closed
        link.account_active = False
        link.save()
        _set_client_shine(invitation, ShineStatus.NONE)
        if invitation.client_id:
            history.record(
                invitation.client,
                actor=None,
                kind="shine.account.closed",
                summary=f"Compte Shine fermé ({invitation.email})",
                changes={"Shine": ["Activé", ""]},
            )
    record.applied = True
    record.save(update_fields=["applied"])
    return "applied"


# --- Accéder à Shine ---------------------------------------------------------------------


def active_link_for(client) -> PartnerLink | None:
    return (
        PartnerLink.objects.filter(
            firm_id=client.firm_id, invitation__client=client, account_active=True
        )
        .exclude(account_id="")
        .order_by("-invitation__activated_at", "-pk")
        .first()
    )


def shine_access_url(*, client, link: PartnerLink, user, shine: ShineClient | None = None) -> str:
    """A fresh access link for this collaborator, recorded in the client's history."""
    url = (shine or ShineClient()).create_access_link(
        account_id=link.account_id,
        collaborator_email=user.email,
        collaborator_name=user.full_name,
        firm_name=client.firm.name,
    )
    history.record(client, actor=user, kind="shine.access", summary="Accès à Shine")
    return url

"""The console's side of the partner contract: create invitations at the partner,
apply its webhooks, open access links. Network calls never run inside a transaction."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from vigie.clients import history
from vigie.clients.models import ShineStatus
from vigie.invitations.models import Invitation, Status
from vigie.partners.models import PartnerLink, PartnerState, WebhookEvent
from vigie.partners.shine import PartnerRefused, PartnerUnavailable, ShineClient

log = logging.getLogger(__name__)

RETRY_DELAYS = [30, 120, 600, 1800, 3600, 3 * 3600]
SWEEP_GRACE = timedelta(seconds=30)
LIVE_STATUSES = {Status.PENDING, Status.SENT}


class UnknownInvitation(Exception):
    pass


def partner_invitation_queue(invitation: Invitation) -> PartnerLink:
    """Ask the worker to create the invitation at the partner once this transaction commits."""
    from vigie.partners.tasks import create_partner_invitation

    link, _ = PartnerLink.objects.get_or_create(
        invitation=invitation,
        defaults={"firm_id": invitation.firm_id, "next_attempt_at": timezone.now()},
    )
    if link.state == PartnerState.PENDING:
        transaction.on_commit(lambda: create_partner_invitation.enqueue(invitation.pk))
    return link


def _payload(invitation: Invitation) -> dict:
    client, contact = invitation.client, invitation.contact
    return {
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
    if invitation.status not in LIVE_STATUSES:
        link.state = PartnerState.CANCELLED
        link.save(update_fields=["state", "updated_at"])
        return link
    try:
        answer = (client or ShineClient()).create_invitation(
            _payload(invitation), idempotency_key=str(invitation.public_id)
        )
    except PartnerUnavailable as exc:
        delay = RETRY_DELAYS[min(link.attempts, len(RETRY_DELAYS) - 1)]
        PartnerLink.objects.filter(pk=link.pk, state=PartnerState.PENDING).update(
            attempts=link.attempts + 1,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
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


def partners_sweep() -> int:
    """Requeue partner calls whose next attempt is due (a killed worker leaves them so)."""
    from vigie.partners.tasks import create_partner_invitation

    due = PartnerLink.objects.filter(
        state=PartnerState.PENDING, next_attempt_at__lte=timezone.now() - SWEEP_GRACE
    ).values_list("invitation_id", flat=True)
    count = 0
    for invitation_id in due:
        # Push the next attempt forward first so two sweeps don't queue it twice.
        PartnerLink.objects.filter(invitation_id=invitation_id).update(
            next_attempt_at=timezone.now() + timedelta(minutes=5)
        )
        create_partner_invitation.enqueue(invitation_id)
        count += 1
    return count


# --- Webhooks -------------------------------------------------------------------------


def _set_client_shine(invitation: Invitation, status: str) -> None:
    client = invitation.client
    if client is not None and client.shine_status != status:
        client.shine_status = status
        client.save(update_fields=["shine_status"])


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
                event_id=event["id"], type=event["type"], created=event["created"], payload=event
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
        invitation.status = Status.ACTIVATED
        invitation.activated_at = timezone.now()
        invitation.save(update_fields=["status", "activated_at", "updated_at"])
        _set_client_shine(invitation, ShineStatus.ACTIVATED)
        summary = f"Compte Shine activé par le client ({invitation.email})"
    elif kind == "invitation.expired":
        if invitation.status in LIVE_STATUSES:
            invitation.status = Status.EXPIRED
            invitation.save(update_fields=["status", "updated_at"])
            _set_client_shine(invitation, ShineStatus.EXPIRED)
        summary = f"Invitation Shine expirée chez le partenaire ({invitation.email})"
    else:  # account.closed
        link.account_active = False
        _set_client_shine(invitation, ShineStatus.NONE)
        summary = f"Compte Shine fermé ({invitation.email})"
    link.save()
    record.applied = True
    record.save(update_fields=["applied"])
    if invitation.client_id:
        history.record(invitation.client, actor=None, kind=f"shine.{kind}", summary=summary)
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

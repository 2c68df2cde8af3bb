"""How invitations follow what happens around them, told by signals: a contact's
address changed (the client core), the partner activated an account or let an
invitation expire (the partner connector). Connected in `InvitationsConfig.ready`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from vigie.clients import history
from vigie.clients.models import ShineStatus
from vigie.clients.signals import contact_email_changed
from vigie.invitations.lifecycle import invitation_expire, invitations_void_for_contact
from vigie.invitations.models import Invitation, Status
from vigie.invitations.services import invitation_accept
from vigie.partners.signals import partner_account_activated, partner_invitation_expired


@receiver(contact_email_changed, dispatch_uid="invitations.contact_email_changed")
def _void_for_old_email(sender, contact, old_email: str, actor, **kwargs) -> list[Invitation]:
    return invitations_void_for_contact(contact=contact, old_email=old_email, actor=actor)


@receiver(partner_invitation_expired, dispatch_uid="invitations.partner_expired")
def _expire(sender, invitation: Invitation, **kwargs) -> None:
    invitation_expire(invitation=invitation)


@receiver(partner_account_activated, dispatch_uid="invitations.partner_activated")
def _activate(sender, invitation: Invitation, **kwargs) -> None:
    """The account exists at the partner: that is a fact, whatever our invitation said."""
    if invitation.is_open:
        try:
            invitation_accept(invitation=invitation)
            return
        except ValidationError:  # its address is held by another invitation meanwhile
            pass
    try:
        with transaction.atomic():
            Invitation.objects.filter(pk=invitation.pk).update(
                status=Status.ACTIVATED, activated_at=timezone.now(), updated_at=timezone.now()
            )
    except IntegrityError:  # another invitation holds the address; the link says active
        pass
    client = invitation.client
    if client is not None and client.shine_status != ShineStatus.ACTIVATED:
        client.shine_status = ShineStatus.ACTIVATED
        client.save(update_fields=["shine_status"])
    if invitation.client_id:
        history.record(
            invitation.client,
            actor=None,
            kind="invitation.activated",
            summary=f"Compte Shine activé chez le partenaire ({invitation.email}), "
            f"alors que l'invitation était {invitation.get_status_display().lower()}",
        )

from __future__ import annotations

from django_tasks import task

from vigie.partners.services import partner_invitation_cancel, partner_invitation_create


@task()
def create_partner_invitation(invitation_id: int) -> None:
    partner_invitation_create(invitation_id=invitation_id)


@task()
def create_partner_invitations(invitation_ids: list[int]) -> None:
    for invitation_id in invitation_ids:
        partner_invitation_create(invitation_id=invitation_id)


@task()
def cancel_partner_invitation(invitation_id: int) -> None:
    partner_invitation_cancel(invitation_id=invitation_id)

from __future__ import annotations

from django_tasks import task

from vigie.partners.services import (
    partner_invitation_cancel,
    partner_invitation_create,
    partner_invitations_create_many,
)


@task()
def create_partner_invitation(invitation_id: int) -> None:
    partner_invitation_create(invitation_id=invitation_id)


@task()
def create_partner_invitations(invitation_ids: list[int]) -> None:
    partner_invitations_create_many(invitation_ids=invitation_ids)


@task()
def cancel_partner_invitation(invitation_id: int) -> None:
    partner_invitation_cancel(invitation_id=invitation_id)

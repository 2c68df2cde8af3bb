from __future__ import annotations

from django_tasks import task

# services enqueues these tasks and they run services: each module imports the other as
# a module, never a name from it, so either may be imported first.
from vigie.partners import services


@task()
def create_partner_invitation(invitation_id: int) -> None:
    services.partner_invitation_create(invitation_id=invitation_id)


@task()
def create_partner_invitations(invitation_ids: list[int]) -> None:
    services.partner_invitations_create_many(invitation_ids=invitation_ids)


@task()
def cancel_partner_invitation(invitation_id: int) -> None:
    services.partner_invitation_cancel(invitation_id=invitation_id)

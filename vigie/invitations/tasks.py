from __future__ import annotations

from django_tasks import task

from vigie.invitations.services import bulk_invitation_run


@task()
def run_bulk_invitation(bulk_id: int) -> None:
    bulk_invitation_run(bulk_id)

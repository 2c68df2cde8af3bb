from __future__ import annotations

from django_tasks import task

# services enqueues this task and it runs services: each module imports the other as a
# module, never a name from it, so either may be imported first.
from vigie.invitations import services


@task()
def run_bulk_invitation(bulk_id: int) -> None:
    services.bulk_invitation_run(bulk_id)

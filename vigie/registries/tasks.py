from __future__ import annotations

from django_tasks import task

# services enqueues this task and it runs services: each module imports the other as a
# module, never a name from it, so either may be imported first.
from vigie.registries import services

# A run waits on the registers' rate for minutes: on a queue of its own
# (settings.TASKS), so that it never holds the workers that send e-mails and call the
# partner. `make run` starts a worker for it (`vigie db_worker --queue-name registers`).
QUEUE = "registers"


@task(queue_name=QUEUE)
def check_run(run_id: int) -> None:
    services.check_run_execute(run_id=run_id)

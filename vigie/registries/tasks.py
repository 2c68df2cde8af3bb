from __future__ import annotations

from django_tasks import task

# services enqueues this task and it runs services: each module imports the other as a
# module, never a name from it, so either may be imported first.
from vigie.registries import services


@task()
def check_run(run_id: int) -> None:
    services.check_run_execute(run_id=run_id)

from __future__ import annotations

from django_tasks import task

# services and registry enqueue these tasks and they run them: each module imports the
# other as a module, never a name from it, so either may be imported first (as
# vigie.partners).
from vigie.imports import registry, services
from vigie.registries import tasks as registries_tasks


@task()
def prepare_import(job_id: int) -> None:
    """Read an uploaded file's first rows and count, for its mapping page."""
    services.import_prepare(job_id=job_id)


@task()
def run_import(job_id: int) -> None:
    """Run or resume an import; its durable state is the ImportJob row."""
    services.import_run(job_id=job_id)


@task(queue_name=registries_tasks.QUEUE)
def registry_fill(fill_id: int) -> None:
    """« Compléter depuis le registre »: waits on the register's rate, so on the
    registers' queue; its durable state is the RegistryFill's rows."""
    registry.fill_run(fill_id=fill_id)

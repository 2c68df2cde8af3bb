from __future__ import annotations

from django_tasks import task

# services enqueues these tasks and they run services: each module imports the other as
# a module, never a name from it, so either may be imported first (as vigie.partners).
from vigie.imports import services


@task()
def prepare_import(job_id: int) -> None:
    """Read an uploaded file's first rows and count, for its mapping page."""
    services.import_prepare(job_id=job_id)


@task()
def run_import(job_id: int) -> None:
    """Run or resume an import; its durable state is the ImportJob row."""
    services.import_run(job_id=job_id)

from __future__ import annotations

from django_tasks import task

from vigie.imports.services import import_run


@task()
def run_import(job_id: int) -> None:
    """Run or resume an import; its durable state is the ImportJob row."""
    import_run(job_id=job_id)

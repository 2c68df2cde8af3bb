from __future__ import annotations

from django_tasks import task

from vigie.imports.services import import_prepare, import_run


@task()
def prepare_import(job_id: int) -> None:
    """Read an uploaded file's first rows and count, for its mapping page."""
    import_prepare(job_id=job_id)


@task()
def run_import(job_id: int) -> None:
    """Run or resume an import; its durable state is the ImportJob row."""
    import_run(job_id=job_id)

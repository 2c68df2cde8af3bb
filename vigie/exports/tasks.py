from __future__ import annotations

from django_tasks import task

# services enqueues this task and it runs services: each imports the other as a module.
from vigie.exports import services


@task()
def prepare_export(export_id: int) -> None:
    """Write a portfolio export's file; its durable state is the PortfolioExport row."""
    services.export_run(export_id=export_id)

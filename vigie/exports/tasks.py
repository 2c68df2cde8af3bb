from __future__ import annotations

from django_tasks import task

# services enqueues this task and it runs services: each imports the other as a module.
from vigie.exports import services

# A workbook of 100,000 rows holds its worker for minutes: on a queue of its own
# (settings.TASKS), so that it never delays the e-mails and partner calls of the default
# queue. `make run` starts a worker for it (`vigie db_worker --queue-name exports`).
QUEUE = "exports"


@task(queue_name=QUEUE)
def prepare_export(export_id: int) -> None:
    """Write a portfolio export's file; its durable state is the PortfolioExport row."""
    services.export_run(export_id=export_id)

from __future__ import annotations

from django_tasks import task

# services enqueues this task and it runs services: each imports the other as a module.
from vigie.campaigns import services


@task()
def run_campaign(campaign_id: int) -> None:
    services.campaign_run(campaign_id)

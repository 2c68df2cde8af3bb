from __future__ import annotations

from django_tasks import task

# services enqueues these tasks and they run services: each module imports the other
# as a module, never a name from it, so either may be imported first.
from vigie.mail import services


@task()
def send_outbound_email(email_id: int) -> None:
    services.email_deliver(email_id)


@task()
def send_outbound_batch(email_ids: list[int]) -> None:
    services.email_deliver_many(email_ids)

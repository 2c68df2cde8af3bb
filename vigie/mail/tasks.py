from __future__ import annotations

from django_tasks import task

from vigie.mail.services import email_deliver, email_deliver_many


@task()
def send_outbound_email(email_id: int) -> None:
    email_deliver(email_id)


@task()
def send_outbound_batch(email_ids: list[int]) -> None:
    email_deliver_many(email_ids)

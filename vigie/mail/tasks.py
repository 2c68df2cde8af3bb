from __future__ import annotations

from django_tasks import task

from vigie.mail.services import email_deliver


@task()
def send_outbound_email(email_id: int) -> None:
    email_deliver(email_id)

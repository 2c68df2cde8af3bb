"""A local mailbox: each message is written as one .eml file under EMAIL_FILE_PATH
(var/mail by default) and read back at /dev/mail/. Used when EMAIL_URL is unset."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


def mailbox_dir() -> Path:
    return Path(getattr(settings, "EMAIL_FILE_PATH", None) or settings.VAR_DIR / "mail")


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        folder = mailbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.eml"
            tmp = folder / (name + ".tmp")
            tmp.write_bytes(message.message().as_bytes(linesep="\n"))
            tmp.rename(folder / name)  # readers never see half a message
            sent += 1
        return sent

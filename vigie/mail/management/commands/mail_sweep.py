"""`vigie mail_sweep [--every SECONDS]`: requeue outbound emails a dead worker left behind."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from vigie.mail.services import mail_sweep


class Command(BaseCommand):
    help = "Requeue outbound emails stuck in queued/sending past their next attempt."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=0, help="Run forever, every N seconds (0: once)."
        )

    def handle(self, *args, every: float = 0, **options):
        while True:
            count = mail_sweep()
            if count or not every:
                self.stdout.write(f"{count} e-mail(s) remis en file d'attente.")
            if not every:
                return
            time.sleep(every)

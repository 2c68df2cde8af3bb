from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from sandbox.webhooks import deliver_due


class Command(BaseCommand):
    help = "Retry undelivered webhooks, in a loop (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, once: bool, interval: float, **options):
        while True:
            deliver_due()
            if once:
                return
            time.sleep(interval)

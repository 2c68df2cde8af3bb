from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from vigie.demo import data as demo


class Command(BaseCommand):
    help = "Load the demo portfolio (Cabinet Démonstration, 4,537 clients; Cabinet Témoin, 50)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the demo exists."
        )
        parser.add_argument("--reset", action="store_true", help="Delete the demo firms first.")

    def handle(self, *args, if_empty: bool, reset: bool, **options):
        if demo.demo_exists():
            if if_empty:
                self.stdout.write("Demo data already loaded.")
                return
            if not reset:
                raise CommandError("The demo firms exist already; use --reset to rebuild them.")
            demo.delete_demo()
        started = time.perf_counter()
        counts = demo.build_demo()
        elapsed = time.perf_counter() - started
        for firm, count in counts.items():
            self.stdout.write(f"{firm}: {count} clients")
        self.stdout.write(self.style.SUCCESS(f"Demo loaded in {elapsed:.1f} s."))

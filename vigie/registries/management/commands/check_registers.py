"""`vigie check_registers --firm NAME [--register sirene|annuaire] [--skip-unchanged-days N]
[--queue]`: check a firm's clients against the public registers (the nightly run)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from vigie.firms.models import Firm
from vigie.registries import services
from vigie.registries.models import CheckItem, CheckStatus, Register, RegisterCheck, RunState


class Command(BaseCommand):
    help = "Check a firm's clients against the company register and the e-invoicing directory."

    def add_arguments(self, parser):
        parser.add_argument("--firm", required=True, help="The firm's name.")
        parser.add_argument("--register", choices=Register.values, action="append")
        parser.add_argument("--skip-unchanged-days", type=int, default=None)
        parser.add_argument("--queue", action="store_true", help="Leave it to the task worker.")

    def handle(self, *args, firm: str, register, skip_unchanged_days, queue, **options):
        found = Firm.objects.filter(name=firm).first()
        if found is None:
            raise CommandError(f"No firm named {firm!r}.")
        kwargs = {
            "firm": found,
            "registers": tuple(register or Register.values),
            "skip_unchanged_days": skip_unchanged_days,
        }
        started, cpu = time.perf_counter(), time.process_time()
        if queue:
            run = services.check_clients_queue(**kwargs)
            if run.state == RunState.PREPARING:  # the worker writes its items
                self.stdout.write(f"Run {run.public_id} queued: {run.clients} clients.")
            else:
                self.stdout.write(
                    f"Run {run.public_id} queued: {run.total} checks, {run.skipped} skipped."
                )
            return
        run = services.check_clients(**kwargs)
        left = CheckItem.objects.for_firm(found).filter(run=run, state="a_faire").count()
        counts = {
            status.label: RegisterCheck.objects.for_firm(found).filter(status=status).count()
            for status in CheckStatus
        }
        self.stdout.write(
            f"Run {run.public_id}: {run.total} checks, {run.skipped} skipped, {left} left for "
            f"later, in {time.perf_counter() - started:.1f} s "
            f"(CPU {time.process_time() - cpu:.1f} s). "
            + ", ".join(f"{label}: {n}" for label, n in counts.items())
        )

"""`vigie registers_sandbox_export --out FILE [--firm NAME]`: what the sandbox registers
are seeded from (`python -m sandbox registers_seed FILE`): each client with a SIRET, as
the firm holds it. Every firm by default (`make run` seeds the demo's)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from vigie.clients.models import Client


class Command(BaseCommand):
    help = "Write the clients the sandbox registers are seeded from, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True)
        parser.add_argument("--firm", default=None)

    def handle(self, *args, out: str, firm: str | None, **options):
        clients = Client.objects.exclude(siret="").order_by("firm_id", "code")
        if firm:
            clients = clients.filter(firm__name=firm)
        entries = list(clients.values("siret", "name", "legal_form", "ape_code", "pa_name"))
        Path(out).write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
        self.stdout.write(f"{len(entries)} clients written to {out}.")

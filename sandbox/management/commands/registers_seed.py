"""`python -m sandbox registers_seed FILE`: fill the sandbox registers from a firm's
clients (a JSON list written by `vigie registers_sandbox_export`)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from sandbox import registers_seed


class Command(BaseCommand):
    help = "Fill the sandbox company register and directory from a JSON list of clients."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options):
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
        counts = registers_seed.load(entries)
        self.stdout.write(
            f"Registers: {counts['companies']} companies, {counts['establishments']} "
            f"establishments, {counts['lines']} directory lines."
        )

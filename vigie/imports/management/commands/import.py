"""`vigie import FILE --firm <public_id or name>`: the UI's import, from a shell."""

from __future__ import annotations

import sys
import uuid

from django.core.management.base import BaseCommand, CommandError

from vigie.firms.models import Firm
from vigie.imports import mapping as mapping_mod
from vigie.imports import services
from vigie.imports.views import write_report


class Command(BaseCommand):
    help = "Import clients (and one contact each) from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--firm", required=True, help="Firm public id or exact name")
        parser.add_argument("--batch-size", type=int, default=services.BATCH_SIZE)
        parser.add_argument("--report", help="Write the rejected rows to this CSV file")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        firm = self._firm(options["firm"])
        try:
            job = services.import_create(firm=firm, actor=None, path=options["file"])
        except FileNotFoundError:
            raise CommandError(f"Fichier introuvable : {options['file']}") from None
        except services.ImportRefused as exc:
            raise CommandError(str(exc)) from None
        job = services.import_prepare(job_id=job.pk)  # an XLSX is read here, as a worker does
        if job.status == services.Status.FAILED:
            job.delete()
            raise CommandError(job.error_message)
        missing = [f for f in mapping_mod.REQUIRED if f not in job.mapping]
        if missing:
            labels = ", ".join(f"« {mapping_mod.LABELS[f]} »" for f in missing)
            job.delete()
            raise CommandError(f"Colonnes non reconnues : {labels}.")
        mapped = ", ".join(mapping_mod.LABELS[f] for f in job.mapping)
        self.stdout.write(f"{job.total} lignes ; colonnes : {mapped}")
        job.status = services.Status.QUEUED
        job.save(update_fields=["status"])
        show = not options["no_progress"]
        job = services.import_run(
            job_id=job.pk,
            batch_size=options["batch_size"],
            progress=self._bar if show else None,
        )
        if show:
            sys.stderr.write("\n")
        self.stdout.write(
            f"Créés : {job.created_count} · Mis à jour : {job.updated_count} · "
            f"Inchangés : {job.unchanged_count} · Rejetés : {job.rejected_count}"
        )
        if job.error_message:
            raise CommandError(job.error_message)
        for error in job.row_errors.all()[:20]:
            self.stdout.write(f"  ligne {error.line} : {error.message}")
        if options["report"]:
            with open(options["report"], "w", newline="", encoding="utf-8") as handle:
                write_report(job, handle)
        self.stdout.write(f"Import {job.public_id}")

    def _firm(self, value: str) -> Firm:
        try:
            return Firm.objects.get(public_id=uuid.UUID(value))
        except (ValueError, Firm.DoesNotExist):
            pass
        firms = list(Firm.objects.filter(name=value)[:2])
        if len(firms) != 1:
            raise CommandError(f"Cabinet introuvable ou ambigu : {value}")
        return firms[0]

    def _bar(self, job) -> None:
        width = 40
        done = width * job.percent // 100
        sys.stderr.write(
            f"\r[{'#' * done}{'.' * (width - done)}] {job.percent:3d} % {job.processed}/{job.total}"
        )
        sys.stderr.flush()

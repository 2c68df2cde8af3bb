"""Import workflow: upload → (an XLSX read by the worker) → mapping → run in batches
(resumable) → report.

The upload request reads a CSV (its row cap keeps that to a fraction of a second) but
never an XLSX's XML: only its ZIP directory, against the caps. The worker reads the
workbook (import_prepare), under a time budget, and the mapping page shows the rows it
kept; a workbook's shared strings alone take seconds to read for 100,000 rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from vigie.clients.services import clients_upsert_many
from vigie.imports import mapping as mapping_mod
from vigie.imports import registry, tasks
from vigie.imports.models import ImportJob, ImportRowError, Status
from vigie.imports.reader import (
    MAX_COLUMNS,
    MAX_UPLOAD_BYTES,
    FileFormat,
    UnreadableFile,
    check_archive,
    iter_rows,
    sniff,
    survey,
)

BATCH_SIZE = 5000
HEAD_ROWS = 11  # the header and the ten rows the mapping page previews
READ_SECONDS = 120  # the worker's budget to read a whole file (settings.IMPORT_READ_SECONDS)
TOO_BIG = "Ce fichier dépasse 20 Mo : découpez-le en plusieurs fichiers."
NO_DATA = "Ce fichier ne contient aucune ligne de données après l'en-tête."
FORMULA = "Formule non importée dans la colonne « {label} » : saisissez la valeur elle-même."


class ImportRefused(Exception):
    pass


def job_format(job: ImportJob) -> FileFormat:
    return FileFormat(job.kind, job.encoding, job.delimiter)


def read_budget() -> timedelta:
    return timedelta(seconds=getattr(settings, "IMPORT_READ_SECONDS", READ_SECONDS))


def import_create(
    *, firm, actor, upload: UploadedFile | None = None, path: str | None = None, name: str = ""
) -> ImportJob:
    """Store the file and check it. A CSV is read now (its first rows, its count, the
    guessed mapping); an XLSX is checked for its ZIP's sizes and queued for the worker."""
    if upload is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ImportRefused(TOO_BIG)
    if upload is not None:
        head = upload.read(64 * 1024)
        upload.seek(0)
    else:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
    try:
        fmt = sniff(head)
    except UnreadableFile as exc:
        raise ImportRefused(str(exc)) from None
    job = ImportJob(
        firm=firm,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        original_name=(name or (upload.name if upload else os.path.basename(path)))[:255],
        kind=fmt.kind,
        encoding=fmt.encoding,
        delimiter=fmt.delimiter,
    )
    if upload is not None:
        job.file.save(f"{fmt.kind}-upload.{fmt.kind}", upload, save=False)
    else:
        with open(path, "rb") as handle:
            job.file.save(f"{fmt.kind}-shell.{fmt.kind}", File(handle), save=False)
    try:
        if fmt.kind == "xlsx":
            check_archive(job.file.path)
        else:
            _survey(job)
    except UnreadableFile as exc:
        job.file.delete(save=False)
        raise ImportRefused(str(exc)) from None
    job.save()
    if fmt.kind == "xlsx":
        transaction.on_commit(lambda: tasks.prepare_import.enqueue(job.pk))
    return job


def _survey(job: ImportJob, *, budget: timedelta | None = None) -> None:
    """Fill the job's preview, count and guessed mapping from its file (UnreadableFile)."""
    seconds = budget.total_seconds() if budget is not None else None
    rows, total = survey(job.file.path, job_format(job), head=HEAD_ROWS, budget=seconds)
    if not rows or total <= 0:
        raise UnreadableFile(NO_DATA)
    job.preview, job.total, job.mapping = rows, total, mapping_mod.guess(rows[0])


def import_prepare(*, job_id: int) -> ImportJob | None:
    """Read an uploaded file in the worker, under the read budget: its first rows for the
    mapping page and its row count. The job stays a draft, now with its preview, or fails
    with the reason in French; nothing else is written. Running it again does nothing."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != Status.DRAFT or job.preview:
        return job
    try:
        _survey(job, budget=read_budget())
    except UnreadableFile as exc:
        job.status, job.error_message = Status.FAILED, str(exc)[:300]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error_message", "finished_at", "updated_at"])
        return job
    job.save(update_fields=["preview", "total", "mapping", "updated_at"])
    return job


def import_columns(job: ImportJob) -> int:
    """How many columns a run reads: an XLSX only up to the last one its mapping uses."""
    if job.kind == "xlsx" and job.mapping:
        return max(int(column) for column in job.mapping.values()) + 1
    return MAX_COLUMNS


@transaction.atomic
def import_start(*, job: ImportJob, mapping: dict[str, int]) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != Status.DRAFT:
        return job
    job.mapping = mapping
    job.status = Status.QUEUED
    job.save(update_fields=["mapping", "status", "updated_at"])

    transaction.on_commit(lambda: tasks.run_import.enqueue(job.pk))
    return job


def _reject_formulas(data: dict, mapping: dict[str, int]) -> list[str]:
    if not any(isinstance(v, str) and v[:1] == "=" for v in _values(data)):
        return []  # the common case, without the per-field walk below
    reasons = []
    for field in mapping:
        value = (
            data.get("contact", {}).get(field.removeprefix("contact_"), "")
            if field.startswith("contact_")
            else data.get(field, "")
        )
        if isinstance(value, str) and value.startswith("="):
            reasons.append(FORMULA.format(label=mapping_mod.LABELS[field]))
    return reasons


def _values(data: dict):
    for key, value in data.items():
        if key == "contact":
            yield from value.values()
        else:
            yield value


def _messages(errors: dict[str, list[str]]) -> str:
    labels = {"contact." + k.removeprefix("contact_"): v for k, v in mapping_mod.LABELS.items()}
    labels |= mapping_mod.LABELS
    parts = []
    for field, messages in errors.items():
        label = labels.get(field, field)
        parts.extend(f"{label} : {m}" for m in messages)
    return " ; ".join(parts)


def import_run(
    *,
    job_id: int,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Run (or resume) an import. Each batch commits its rows, errors and counters
    together, so a run killed at any point resumes from `next_row` with nothing
    imported twice. Re-importing the same file reports every row as unchanged."""
    job = ImportJob.objects.select_related("firm").get(pk=job_id)
    if job.is_finished or job.status == Status.DRAFT:
        return job
    if job.status != Status.RUNNING or job.started_at is None:
        job.status = Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "started_at", "updated_at"])
    source = f"Import ({job.original_name})"
    mapping = {k: int(v) for k, v in job.mapping.items()}
    accepted = registry.accepted_values(job)  # « Compléter depuis le registre »
    code_column = mapping["code"]
    first_line: dict[str, int] = {}
    batch: list[tuple[int, dict]] = []
    batches = 0
    try:
        rows = iter_rows(job.file.path, job_format(job), max_col=import_columns(job))
        next(rows, None)  # header
        for index, row in enumerate(rows):
            line = index + 2
            code = row[code_column].strip() if code_column < len(row) else ""
            if index < job.next_row:
                if code:
                    first_line.setdefault(code, line)
                continue
            if not any(row):
                batch.append((line, {}))
            else:
                earlier = first_line.setdefault(code, line) if code else line
                data = mapping_mod.row_to_data(row, mapping)
                if line in accepted:
                    data = registry.complete(data, *accepted[line])
                if earlier != line:
                    data = {"__duplicate__": earlier, "code": code}
                batch.append((line, data))
            if len(batch) >= batch_size:
                job = _commit_batch(job, batch, mapping, source)
                batch = []
                batches += 1
                if progress:
                    progress(job)
                if max_batches is not None and batches >= max_batches:
                    return job
        if batch:
            job = _commit_batch(job, batch, mapping, source)
            if progress:
                progress(job)
    except UnreadableFile as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=Status.FAILED, error_message=str(exc)[:300], finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.DONE, finished_at=timezone.now(), updated_at=timezone.now()
    )
    job.refresh_from_db()
    if progress:
        progress(job)
    return job


@transaction.atomic
def _commit_batch(job: ImportJob, batch, mapping, source) -> ImportJob:
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    first_index = batch[0][0] - 2
    if locked.next_row != first_index:
        raise RuntimeError("Another worker is running this import.")
    errors: list[ImportRowError] = []

    def reject(line: int, data: dict, message: str) -> None:
        code = str(data.get("code", ""))[:100]
        errors.append(
            ImportRowError(
                job=locked, firm_id=locked.firm_id, line=line, code=code, message=message
            )
        )

    to_upsert: list[tuple[int, dict]] = []
    for line, data in batch:
        if not data:
            continue
        if "__duplicate__" in data:
            reject(
                line,
                data,
                f"Code client « {data['code']} » en double dans le fichier "
                f"(déjà présent ligne {data['__duplicate__']}).",
            )
        elif formulas := _reject_formulas(data, mapping):
            reject(line, data, " ; ".join(formulas))
        else:
            to_upsert.append((line, data))
    outcomes = clients_upsert_many(
        firm=locked.firm, rows=[data for _, data in to_upsert], source=source
    )
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for (line, data), outcome in zip(to_upsert, outcomes, strict=True):
        if outcome.result == "rejected":
            reject(line, data, _messages(outcome.errors))
        else:
            counts[outcome.result] += 1
    ImportRowError.objects.bulk_create(errors)
    locked.created_count += counts["created"]
    locked.updated_count += counts["updated"]
    locked.unchanged_count += counts["unchanged"]
    locked.rejected_count += len(errors)
    locked.processed += sum(1 for _, data in batch if data)
    locked.next_row = batch[-1][0] - 1
    locked.save()
    return locked

"""« Compléter depuis le registre » on an import's preview.

Among the file's first FILL_MAX_ROWS rows, those with a valid SIRET whose name, legal
form, APE code (with its label) or address the import would leave empty are looked up in
the company register (the configured one: vigie.registries.connectors), one call per
SIRET, or per 50 with INSEE's API Sirene, through the connector and its shared token
bucket (vigie.registries.pace: 7 calls a second for every process together). The
register's values for those fields are kept beside the file's, for the user to accept
row by row; the import then takes the accepted values into the fields the file leaves
empty, on the rows whose SIRET is still the one looked up. A SIRET whose check digit
fails is never sent.

The import drives the register's connector, never the reverse (as the invitations drive
the partner's): vigie.registries knows nothing of imports. A fill runs in the task worker,
on the registers' queue; its state is in our rows (RegistryFill, RegistryRow), each row
written as soon as the register answers and claimed under a lease, so a worker killed in
the middle loses nothing, and the next one (« Reprendre ») never asks again for a row
already answered.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from vigie.clients.models import Client, LegalForm
from vigie.imports import tasks
from vigie.imports.mapping import LABELS, row_to_data
from vigie.imports.models import (
    FillStatus,
    ImportJob,
    RegistryFill,
    RegistryRow,
    RowState,
    Status,
)
from vigie.imports.reader import MAX_COLUMNS, FileFormat, UnreadableFile, iter_rows
from vigie.lib.text import fold
from vigie.lib.validators import format_siret, normalize_siret
from vigie.registries.connectors import company_register
from vigie.registries.http import RegisterRefused, RegisterUnavailable
from vigie.registries.insee import BATCH
from vigie.registries.lookup import Found
from vigie.registries.pace import MARGIN

FILL_MAX_ROWS = 200  # 200 calls at 7 a second: about 35 seconds
FIELDS = ("name", "legal_form", "ape_code", "activity", "address", "postal_code", "city")
STALLED_AFTER = timedelta(minutes=2)

NOT_A_DRAFT = "L'import est lancé : les valeurs du registre ne peuvent plus changer."
NO_SIRET_COLUMN = "Choisissez d'abord la colonne « Siret » : le registre est interrogé par SIRET."
UNKNOWN = "SIRET inconnu du registre des entreprises (ou non diffusible)."
UNAVAILABLE = "Le registre n'a pas répondu ({reason}) : relancez « Compléter depuis le registre »."
NOT_CONFIGURED = "Le registre des entreprises n'est pas configuré : prévenez l'administrateur."
NOT_HEAD_OFFICE = "Ce SIRET n'est pas celui du siège ({siret}) : l'adresse est celle du siège."


class FillRefused(Exception):
    """The fill cannot start or change now; the message is French."""


def fill_of(job: ImportJob) -> RegistryFill | None:
    return RegistryFill.objects.filter(job=job).first()


@transaction.atomic
def fill_start(*, job: ImportJob, mapping: dict[str, int]) -> RegistryFill:
    """Look up the rows with the columns of `mapping` (kept as the job's): a new fill
    replaces the previous one and its choices. The worker reads the file."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != Status.DRAFT or not job.preview:
        raise FillRefused(NOT_A_DRAFT)
    if "siret" not in mapping:
        raise FillRefused(NO_SIRET_COLUMN)
    job.mapping = mapping
    job.save(update_fields=["mapping", "updated_at"])
    RegistryFill.objects.filter(job=job).delete()
    fill = RegistryFill.objects.create(firm_id=job.firm_id, job=job, mapping=mapping)
    transaction.on_commit(lambda: tasks.registry_fill.enqueue(fill.pk))
    return fill


@transaction.atomic
def fill_accept(*, job: ImportJob, lines: set[int] | None) -> int:
    """Accept the register's values for these lines and refuse them for the others
    (None: accept every row that has some). Returns how many rows are accepted."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)  # import_start locks it too
    if job.status != Status.DRAFT:
        raise FillRefused(NOT_A_DRAFT)
    rows = RegistryRow.objects.filter(fill__job=job, state=RowState.FOUND).exclude(values={})
    if lines is None:
        rows.update(accepted=True)
    else:
        rows.update(accepted=Case(When(line__in=lines, then=Value(True)), default=Value(False)))
    return rows.filter(accepted=True).count()


# --- The import takes the accepted values ------------------------------------------------


def _blank(name: str, value) -> bool:
    text = " ".join(str(value or "").split())
    return not text or (name == "legal_form" and fold(text) == "aucune")


def accepted_values(job: ImportJob) -> dict[int, tuple[str, dict]]:
    """{line: (SIRET looked up, the register's values)} of the accepted rows."""
    rows = RegistryRow.objects.filter(fill__job=job, accepted=True, state=RowState.FOUND)
    return {
        line: (siret, values) for line, siret, values in rows.values_list("line", "siret", "values")
    }


def complete(data: dict, siret: str, values: dict) -> dict:
    """A row of the file (`row_to_data`) with the register's accepted `values` in the
    fields it leaves empty, when its SIRET is still `siret` (the columns may have been
    changed since)."""
    try:
        if normalize_siret(str(data.get("siret") or "")) != siret:
            return data
    except ValidationError:
        return data
    return data | {name: value for name, value in values.items() if _blank(name, data.get(name))}


# --- The worker -------------------------------------------------------------------------


def _candidates(fill: RegistryFill) -> tuple[list[RegistryRow], int, int]:
    """The rows to look up among the file's first FILL_MAX_ROWS (rows, how many were
    read, how many SIRETs were invalid). A field is empty when the import would leave it
    so: its column is blank, or it has no column and the client it names has none."""
    job = fill.job
    mapping = {name: int(column) for name, column in fill.mapping.items()}
    fmt = FileFormat(job.kind, job.encoding, job.delimiter)
    max_col = max(mapping.values()) + 1 if job.kind == "xlsx" else MAX_COLUMNS
    read = invalid = 0
    seen: set[str] = set()
    asked: list[tuple[int, str, str, dict]] = []
    with contextlib.closing(iter_rows(job.file.path, fmt, max_col=max_col)) as rows:
        next(rows, None)  # header
        for index, row in enumerate(rows):
            if read >= FILL_MAX_ROWS:
                break
            if not any(row):
                continue
            read += 1
            data = row_to_data(row, mapping)
            code = str(data.get("code") or "").strip()
            if not code or code in seen:  # the import rejects these rows
                continue
            seen.add(code)
            try:
                siret = normalize_siret(str(data.get("siret") or ""))
            except ValidationError:
                invalid += 1
                continue
            if siret:
                asked.append((index + 2, code, siret, data))
    codes = [code for _, code, _, _ in asked]
    stored = {
        values["code"]: values
        for values in Client.objects.for_firm(job.firm_id)
        .filter(code__in=codes)
        .values("code", *FIELDS)
    }
    candidates = []
    for line, code, siret, data in asked:
        empty = {}
        for name in FIELDS:
            if name in mapping:
                if _blank(name, data.get(name)):
                    empty[name] = str(data.get(name) or "")
            elif _blank(name, stored.get(code, {}).get(name)):
                empty[name] = ""
        if "ape_code" not in empty:
            # The label of the register's APE code, beside another code the file gives: no.
            empty.pop("activity", None)
        if empty:
            candidates.append(
                RegistryRow(
                    firm_id=job.firm_id,
                    fill=fill,
                    line=line,
                    code=code[:100],
                    siret=siret,
                    file_values=empty,
                )
            )
    return candidates, read, invalid


def _prepare(fill: RegistryFill) -> RegistryFill | None:
    """Read the rows to look up, once: QUEUED → RUNNING with its rows, or FAILED."""
    try:
        candidates, read, invalid = _candidates(fill)
    except (UnreadableFile, OSError) as exc:
        message = str(exc) if isinstance(exc, UnreadableFile) else "fichier introuvable"
        now = timezone.now()
        RegistryFill.objects.filter(pk=fill.pk, status=FillStatus.QUEUED).update(
            status=FillStatus.FAILED, error_message=message[:300], finished_at=now, updated_at=now
        )
        return RegistryFill.objects.filter(pk=fill.pk).first()
    with transaction.atomic():
        locked = RegistryFill.objects.select_for_update().filter(pk=fill.pk).first()
        if locked is None or locked.status != FillStatus.QUEUED:
            return locked  # replaced by a new fill, or prepared by another worker
        RegistryRow.objects.bulk_create(candidates)
        locked.rows_read, locked.invalid_sirets = read, invalid
        locked.status = FillStatus.RUNNING
        locked.save()
    return locked


def _claim(fill: RegistryFill, count: int) -> dict[str, list[RegistryRow]]:
    """The pending rows of the next `count` SIRETs nobody is looking up, leased to this
    worker (one conditional UPDATE: two workers never take the same rows), by SIRET."""
    while True:
        now = timezone.now()
        free = RegistryRow.objects.filter(fill=fill, state=RowState.PENDING).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        )
        sirets = list(dict.fromkeys(free.order_by("line").values_list("siret", flat=True)))
        if not sirets:
            return {}
        until = now + timedelta(seconds=settings.REGISTRY_LEASE_SECONDS)
        free.filter(siret__in=sirets[:count]).update(lease_until=until)
        claimed: dict[str, list[RegistryRow]] = {}
        for row in RegistryRow.objects.filter(
            fill=fill, state=RowState.PENDING, siret__in=sirets[:count], lease_until=until
        ):
            claimed.setdefault(row.siret, []).append(row)
        if claimed:  # else another worker took them first: the next ones
            return claimed


def _answer(rows: list[RegistryRow], state: str, note: str = "", values=None) -> None:
    now = timezone.now()
    for row in rows:
        RegistryRow.objects.filter(pk=row.pk, state=RowState.PENDING).update(
            state=state,
            values={k: v for k, v in (values or {}).items() if k in row.file_values},
            note=note[:300],
            checked_at=now,
            lease_until=None,
        )


def _look_up(connector, rows: list[RegistryRow]) -> None:
    """The rows of one SIRET: one call, or none when a batch has fetched it (INSEE)."""
    siret = rows[0].siret
    try:
        company = connector.company(siret)
    except (RegisterUnavailable, RegisterRefused) as exc:
        _answer(rows, RowState.UNAVAILABLE, UNAVAILABLE.format(reason=exc))
        return
    if company is None:
        _answer(rows, RowState.UNKNOWN, UNKNOWN)
        return
    found = Found(siret, company)
    notes = [found.closed]
    if not found.is_head_office:
        notes.append(NOT_HEAD_OFFICE.format(siret=format_siret(company.head_office.siret)))
    _answer(rows, RowState.FOUND, " ".join(n for n in notes if n), found.values())


def _job_is_draft(fill: RegistryFill) -> bool:
    return ImportJob.objects.filter(pk=fill.job_id, status=Status.DRAFT).exists()


def fill_run(*, fill_id: int, max_calls: int | None = None) -> RegistryFill | None:
    """Look up the fill's rows (after reading them, the first time), one SIRET at a time,
    until none is left or the import has started. Running it again, or two workers at
    once, asks nothing twice."""
    fill = RegistryFill.objects.select_related("job").filter(pk=fill_id).first()
    if fill is None or fill.is_finished:
        return fill
    if fill.status == FillStatus.QUEUED:
        fill = _prepare(fill)
        if fill is None or fill.is_finished:
            return fill
    try:
        connector = company_register()
    except ImproperlyConfigured as exc:  # INSEE's API Sirene chosen without its key
        now = timezone.now()
        RegistryFill.objects.filter(pk=fill.pk).update(
            status=FillStatus.FAILED, error_message=NOT_CONFIGURED, finished_at=now, updated_at=now
        )
        raise exc
    # INSEE's API Sirene answers many SIRETs in one call; the other, one company a call.
    batch = BATCH if hasattr(connector, "companies") else 1
    claims = 0
    while (max_calls is None or claims < max_calls) and _job_is_draft(fill):
        claimed = _claim(fill, batch)
        if not claimed:
            break
        claims += 1
        try:
            if batch > 1:
                connector.companies(list(claimed), head_addresses=True)
        except (RegisterUnavailable, RegisterRefused) as exc:
            for rows in claimed.values():
                _answer(rows, RowState.UNAVAILABLE, UNAVAILABLE.format(reason=exc))
        else:
            for rows in claimed.values():  # outside any transaction
                _look_up(connector, rows)
        RegistryFill.objects.filter(pk=fill.pk).update(updated_at=timezone.now())
    pending = RegistryRow.objects.filter(fill=fill, state=RowState.PENDING).exists()
    if not pending or not _job_is_draft(fill):
        now = timezone.now()
        RegistryFill.objects.filter(pk=fill.pk, status=FillStatus.RUNNING).update(
            status=FillStatus.DONE, finished_at=now, updated_at=now
        )
    return RegistryFill.objects.filter(pk=fill.pk).first()


# --- What the preview shows --------------------------------------------------------------


@dataclass
class Review:
    """The fill as the preview shows it."""

    job: ImportJob
    fill: RegistryFill | None
    rows: list[RegistryRow] = field(default_factory=list)

    @classmethod
    def of(cls, job: ImportJob) -> Review:
        fill = fill_of(job)
        rows = list(fill.rows.all()) if fill is not None else []
        for row in rows:
            row.fields = [
                (LABELS[name], _shown(name, row.file_values.get(name)), _shown(name, value))
                for name, value in row.values.items()
            ]
        return cls(job, fill, rows)

    @property
    def cap(self) -> int:
        return FILL_MAX_ROWS

    @property
    def running(self) -> bool:
        return self.fill is not None and not self.fill.is_finished

    @property
    def stalled(self) -> bool:
        """Nothing written for a while and no row held by a worker's lease: its worker
        is gone (« Reprendre » queues the fill again)."""
        now = timezone.now()
        return (
            self.running
            and now - self.fill.updated_at > STALLED_AFTER
            and not any(
                row.lease_until and row.lease_until > now
                for row in self.rows
                if row.state == RowState.PENDING
            )
        )

    @property
    def locked(self) -> bool:
        return self.job.status != Status.DRAFT

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def done(self) -> int:
        return sum(1 for row in self.rows if row.state != RowState.PENDING)

    @property
    def percent(self) -> int:
        return self.done * 100 // self.total if self.total else 0

    @property
    def seconds_left(self) -> int:
        """At the register's rate, if nobody else is calling it."""
        sirets = {row.siret for row in self.rows if row.state == RowState.PENDING}
        if settings.SIRENE_SOURCE == "insee":  # BATCH SIRETs a call, a rate per minute
            calls, rate = -(-len(sirets) // BATCH), settings.INSEE_RATE_PER_MINUTE / 60
        else:
            calls, rate = len(sirets), settings.SIRENE_RATE
        return round(calls * MARGIN / rate)

    @property
    def proposals(self) -> list[RegistryRow]:
        return [row for row in self.rows if row.state == RowState.FOUND and row.values]

    @property
    def unanswered(self) -> list[RegistryRow]:
        """Rows the register had nothing for (unknown, no answer, no value to give)."""
        return [
            row
            for row in self.rows
            if row.state in (RowState.UNKNOWN, RowState.UNAVAILABLE)
            or (row.state == RowState.FOUND and not row.values)
        ]

    @property
    def accepted(self) -> int:
        return sum(1 for row in self.proposals if row.accepted)


def _shown(name: str, value) -> str:
    if name == "legal_form" and value in LegalForm.values:
        return LegalForm(value).label
    return str(value or "")

"""Writing a run's items: one per client and register, in chunks of clients.

A run of the whole portfolio, or of a selection of more than INLINE_UP_TO clients, is
created « en préparation » with what it asks (`run_create`, in the request: one row) and
the worker's task writes its items here before checking them (`run_prepare`). A
selection this small is prepared at once, in the request, as before.

Each chunk — the next CHUNK clients in id order after the run's `prepared_through` — is
written in one transaction that holds the run's row and moves its progress and
heartbeat: a worker killed between chunks leaves the run at its last chunk, the next one
(requeued by `registers_sweep` once the heartbeat is a lease old) goes on from there, and
two workers on the same run take turns, each chunk once. The items' unique (run, client,
register) would refuse a chunk written twice anyway (`ignore_conflicts`).

A client checked within `skip_unchanged_days` of the run's creation whose fields the
check reads are unchanged since (same fingerprint) is left out, counted in `skipped`.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vigie.clients.models import Client, ClientCount
from vigie.registries.models import (
    CheckItem,
    CheckRun,
    CheckStatus,
    ExportState,
    Register,
    RegisterCheck,
    RunState,
)

CHUNK = 5000  # clients a transaction
INLINE_UP_TO = 200  # a selection of at most this many clients is prepared in the request

# What of a client a check reads, in the order of `fingerprint`'s arguments.
FIELDS = ("siret", "name", "legal_form", "ape_code", "pa_status", "pa_name")


def fingerprint(
    register: str, siret: str, name: str, legal_form: str, ape_code: str, pa_status: str, pa_name
) -> str:
    """What of the client the check of `register` read: unchanged clients can be skipped."""
    fields = [siret, name, legal_form, ape_code]
    if register == Register.ANNUAIRE:
        fields = [siret, pa_status, pa_name]
    return hashlib.sha256("\x1f".join([register, *fields]).encode()).hexdigest()


def run_create(
    *, firm, client_ids: list[int] | None, registers: tuple[str, ...], skip_unchanged_days
) -> CheckRun:
    """The run, « en préparation » — prepared here when it is a small selection. The
    caller holds the transaction."""
    if client_ids is None:
        count = ClientCount.objects.filter(firm=firm).values_list("active", flat=True).first()
        clients = count or 0
    else:
        client_ids = sorted({int(pk) for pk in client_ids})
        clients = len(client_ids)
    run = CheckRun.objects.create(
        firm=firm,
        state=RunState.PREPARING,
        client_ids=client_ids,
        registers=list(registers),
        skip_unchanged_days=skip_unchanged_days,
        clients=clients,
        prepare_claimed_at=timezone.now(),
    )
    if client_ids is not None and len(client_ids) <= INLINE_UP_TO:
        run_prepare(run)
    return run


def run_prepare(run: CheckRun) -> None:
    """Write the run's items, chunk after chunk from where it stands; then the run is
    « en cours » with its total, skipped and directory export decided. Nothing when the
    run is not in preparation (another worker finished it)."""
    while run_prepare_chunk(run):
        pass
    run.refresh_from_db()


def run_prepare_chunk(run: CheckRun) -> bool:
    """The run's next chunk, or its end; False once it is no longer in preparation."""
    with transaction.atomic():
        locked = (
            CheckRun.objects.select_for_update()
            .filter(pk=run.pk)
            .values_list("state", "prepared_through")
            .first()
        )
        if locked is None or locked[0] != RunState.PREPARING:
            return False
        rows, last = _chunk(run, locked[1])
        if last is None:
            _finish(run)
            return False
        since = None
        if run.skip_unchanged_days is not None:
            since = run.created_at - timedelta(days=run.skip_unchanged_days)
        written, skipped = _write(run, rows, since)
        CheckRun.objects.filter(pk=run.pk).update(
            prepared_through=last,
            prepared=F("prepared") + len(rows),
            total=F("total") + written,
            skipped=F("skipped") + skipped,
            prepare_claimed_at=timezone.now(),
        )
    return True


def _chunk(run: CheckRun, after: int) -> tuple[list[tuple], int | None]:
    """The next chunk's clients, `(id, *FIELDS)`, and the last client id it covers (None
    when nothing is left)."""
    clients = Client.objects.filter(firm_id=run.firm_id).active().order_by("pk")
    if run.client_ids is None:
        rows = list(clients.filter(pk__gt=after).values_list("pk", *FIELDS)[:CHUNK])
        return rows, rows[-1][0] if rows else None
    # The selection, sorted at creation: some of its ids may be archived or gone.
    start = bisect_right(run.client_ids, after)
    ids = run.client_ids[start : start + CHUNK]
    if not ids:
        return [], None
    return list(clients.filter(pk__in=ids).values_list("pk", *FIELDS)), ids[-1]


def _write(run: CheckRun, rows: list[tuple], since) -> tuple[int, int]:
    """The chunk's items; (written, skipped)."""
    registers = run.registers
    recent: dict[tuple[int, str], str] = {}
    if since is not None:
        recent = {
            (client_id, register): print_
            for client_id, register, print_ in RegisterCheck.objects.filter(
                firm_id=run.firm_id,
                client_id__in=[row[0] for row in rows],
                register__in=registers,
                checked_at__gte=since,
            )
            .exclude(status=CheckStatus.UNVERIFIED)
            .values_list("client_id", "register", "fingerprint")
        }
    now, items, skipped = timezone.now(), [], 0
    for pk, *fields in rows:
        for register in registers:
            known = recent.get((pk, register))
            if known is not None and known == fingerprint(register, *fields):
                skipped += 1
                continue
            items.append(
                CheckItem(
                    firm_id=run.firm_id,
                    run_id=run.pk,
                    client_id=pk,
                    register=register,
                    siren=fields[0][:9],
                    next_attempt_at=now,
                )
            )
    CheckItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
    return len(items), skipped


def _finish(run: CheckRun) -> None:
    """Every chunk written: the directory's export decided (many clients), the run under
    way. In the transaction holding the run."""
    export = ExportState.NONE
    if settings.ANNUAIRE_EXPORT_FROM:
        directory = CheckItem.objects.filter(run_id=run.pk, register=Register.ANNUAIRE).count()
        if directory >= settings.ANNUAIRE_EXPORT_FROM:
            export = ExportState.WANTED
    CheckRun.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, directory_export=export, prepare_claimed_at=None
    )

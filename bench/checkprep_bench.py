#!/usr/bin/env python3
"""« Vérifier tout le portefeuille »: the request, and the worker's preparation of the
run's items, before and after the run « en préparation » (vigie.registries.preparation).

    .venv/bin/python bench/checkprep_bench.py [--clients 50000] [--runs 3] [--rebuild]
        [--unnest]

Its own database, `vigie_bench_checkprep` (bench/db.py: BENCH_PG_URL, DATABASE_URL's
server or the embedded one), built once with bench/generate.py (two firms of `--clients`
clients; the first is measured) and reused while the firm is there. Half of the firm's
clients get a recent check of both registers with their current fingerprint, so the
nightly case (`skip_unchanged_days=7`) skips them.

Each case is timed `--runs` times, the old and the new code in turn, each in a
transaction rolled back (nothing stays), median printed:
- before: the former `check_run_create` (kept below as the reference, as it was on main:
  every active client as a model instance, both items built in Python, one
  `bulk_create`), which ran inside the request and the nightly start;
- after, the request: `check_run_create` (one row « en préparation ») and the whole
  POST /reforme/registres/verifier-tout/ through Django's test client (its run deleted);
- after, the worker: `run_prepare` (chunks of client ids, `values_list`, one
  `bulk_create` per chunk), per 10,000 clients beside the former code's.
`--unnest`: also the experiment docs/SCALE.md reports, not kept in the code: the
preparation with each chunk's items sent as three arrays in one `INSERT … SELECT … FROM
unnest(…)` instead of `bulk_create`, the two alternated.
Production settings (DEBUG off), as the web and worker processes run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "vigie_bench_checkprep"
FIRM = "Bench 0"


def _setup(rebuild: bool) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "vigie.settings"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("SHINE_API_KEY", "bench-api-key")
    os.environ.setdefault("SHINE_WEBHOOK_SECRET", "bench-webhook-secret")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # django.test.Client's host
    from bench.db import database_url

    os.environ["DATABASE_URL"] = database_url(DB, fresh=rebuild)
    import django
    from django.conf import settings

    settings.LOGGING_CONFIG = None
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    django.setup()


def _ensure_built(clients: int):
    from django.core.management import call_command
    from django.db import connection

    from bench.generate import build
    from vigie.clients.models import Client
    from vigie.firms.models import Firm

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    firm = Firm.objects.filter(name=FIRM).first()
    if firm is not None and Client.objects.for_firm(firm).active().count() == clients:
        print(f"Cached database {DB} reused.", flush=True)
        return firm
    if firm is not None:
        sys.exit(f"{DB} holds another size: run with --rebuild.")
    started = time.perf_counter()
    print(f"Building {DB}: 2 firms of {clients:,} clients (once)…", flush=True)
    build(firms=2, clients_per_firm=clients)
    firm = Firm.objects.get(name=FIRM)
    _seed_checks(firm)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Built in {time.perf_counter() - started:.0f} s.", flush=True)
    return firm


def _seed_checks(firm) -> None:
    """A recent check of both registers, current fingerprint, for every other client."""
    from django.utils import timezone

    from vigie.clients.models import Client
    from vigie.registries.models import CheckStatus, Register, RegisterCheck
    from vigie.registries.preparation import FIELDS, fingerprint

    at = timezone.now() - timedelta(days=1)
    rows = Client.objects.for_firm(firm).active().order_by("pk").values_list("pk", *FIELDS)
    RegisterCheck.objects.bulk_create(
        (
            RegisterCheck(
                firm=firm,
                client_id=pk,
                register=register,
                status=CheckStatus.UP_TO_DATE,
                checked_at=at,
                attempted_at=at,
                fingerprint=fingerprint(register, *fields),
            )
            for n, (pk, *fields) in enumerate(rows.iterator(chunk_size=5000))
            if n % 2 == 0
            for register in Register.values
        ),
        batch_size=2000,
    )


# --- The reference: check_run_create as it was on main (07ac5a8) --------------------------


def _old_fingerprint(client, register: str) -> str:
    from vigie.registries.models import Register

    fields = [client.siret, client.name, client.legal_form, client.ape_code]
    if register == Register.ANNUAIRE:
        fields = [client.siret, client.pa_status, client.pa_name]
    return hashlib.sha256("\x1f".join([register, *fields]).encode()).hexdigest()


def old_check_run_create(*, firm, registers=("sirene", "annuaire"), skip_unchanged_days=None):
    from django.conf import settings
    from django.utils import timezone

    from vigie.clients.models import Client
    from vigie.registries.models import (
        CheckItem,
        CheckRun,
        CheckStatus,
        ExportState,
        Register,
        RegisterCheck,
        RunState,
    )

    clients = Client.objects.for_firm(firm).active()
    clients = list(
        clients.only("id", "siret", "name", "legal_form", "ape_code", "pa_status", "pa_name")
    )
    recent = {}
    if skip_unchanged_days is not None:
        since = timezone.now() - timedelta(days=skip_unchanged_days)
        recent = {
            (c.client_id, c.register): c.fingerprint
            for c in RegisterCheck.objects.for_firm(firm)
            .filter(checked_at__gte=since, register__in=registers)
            .exclude(status=CheckStatus.UNVERIFIED)
            .only("client_id", "register", "fingerprint")
        }
    run = CheckRun.objects.create(firm=firm, state=RunState.RUNNING)
    now, items, skipped = timezone.now(), [], 0
    for client in clients:
        for register in registers:
            if recent.get((client.pk, register)) == _old_fingerprint(client, register):
                skipped += 1
                continue
            items.append(
                CheckItem(
                    firm=firm,
                    run=run,
                    client=client,
                    register=register,
                    siren=client.siret[:9],
                    next_attempt_at=now,
                )
            )
    CheckItem.objects.bulk_create(items, batch_size=1000)
    run.total, run.skipped = len(items), skipped
    directory = sum(1 for item in items if item.register == Register.ANNUAIRE)
    if settings.ANNUAIRE_EXPORT_FROM and directory >= settings.ANNUAIRE_EXPORT_FROM:
        run.directory_export = ExportState.WANTED
    run.save(update_fields=["total", "skipped", "directory_export"])
    return run


def _write_unnest(run, rows, since):
    """preparation._write's items (no skip rule: the « Vérifier tout » case) in one
    statement of arrays."""
    from django.db import connection
    from django.utils import timezone

    assert since is None
    clients, registers, sirens = [], [], []
    for pk, siret, *_fields in rows:
        for register in run.registers:
            clients.append(pk)
            registers.append(register)
            sirens.append(siret[:9])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registries_checkitem (firm_id, run_id, client_id, register, siren, "
            "state, attempts, next_attempt_at, last_error) "
            "SELECT %s, %s, t.c, t.r, t.s, 'a_faire', 0, %s, '' "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS t(c, r, s) "
            "ON CONFLICT DO NOTHING",
            [run.firm_id, run.pk, timezone.now(), clients, registers, sirens],
        )
    return len(clients), 0


def _unnest_experiment(firm, runs: int) -> None:
    from vigie.registries import preparation
    from vigie.registries.services import check_run_create

    kept = preparation._write
    samples: dict[str, list[float]] = {"bulk_create": [], "unnest": []}
    try:
        for _ in range(runs):
            for name, write in (("bulk_create", kept), ("unnest", _write_unnest)):
                preparation._write = write

                def fn():
                    run = check_run_create(firm=firm)
                    preparation.run_prepare(run)
                    return run.total

                elapsed, total = _rolled_back(fn)
                assert total == 2 * firm_clients(firm), total
                samples[name].append(elapsed)
    finally:
        preparation._write = kept
    print("\nexperiment, « Vérifier tout »'s preparation (run_create + run_prepare):")
    for name, values in samples.items():
        print(
            f"  {name}: median {statistics.median(values):.2f} s, {[round(v, 2) for v in values]}"
        )


def firm_clients(firm) -> int:
    from vigie.clients.models import Client

    return Client.objects.for_firm(firm).active().count()


# --- Timing ------------------------------------------------------------------------------


def _rolled_back(fn):
    """fn's wall time, in a transaction rolled back; and what it returned."""
    from django.db import transaction

    with transaction.atomic():
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--unnest", action="store_true", help="also the unnest experiment")
    args = parser.parse_args()
    _setup(args.rebuild)

    from django.test import Client as HttpClient

    from vigie.firms.models import Membership, Role
    from vigie.registries.models import CheckRun
    from vigie.registries.preparation import CHUNK, run_prepare
    from vigie.registries.services import check_run_create

    firm = _ensure_built(args.clients)
    admin = Membership.objects.filter(firm=firm, role=Role.ADMIN).first().user
    http = HttpClient()
    http.force_login(admin)
    per10k = 10_000 / args.clients

    def prepared(skip):
        def fn():
            run = check_run_create(firm=firm, skip_unchanged_days=skip)
            started = time.perf_counter()
            run_prepare(run)
            return time.perf_counter() - started, run.total, run.skipped

        return fn

    def request():
        started = time.perf_counter()
        response = http.post("/reforme/registres/verifier-tout/")
        elapsed = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        CheckRun.objects.for_firm(firm).delete()
        return elapsed

    print(f"firm {FIRM!r}: {args.clients:,} active clients; chunk {CHUNK:,}; {args.runs} runs")
    for label, skip in (("« Vérifier tout » (no skip)", None), ("nightly (skip 7 days)", 7)):
        old, new, prep, totals = [], [], [], set()
        for _ in range(args.runs):
            elapsed, run = _rolled_back(
                lambda skip=skip: old_check_run_create(firm=firm, skip_unchanged_days=skip)
            )
            old.append(elapsed)
            totals.add(("old", run.total, run.skipped))
            elapsed, _run = _rolled_back(
                lambda skip=skip: check_run_create(firm=firm, skip_unchanged_days=skip)
            )
            new.append(elapsed)
            _elapsed, (seconds, total, skipped) = _rolled_back(prepared(skip))
            prep.append(seconds)
            totals.add(("new", total, skipped))
        med = statistics.median
        print(f"\n{label}: items, skipped {sorted(totals)}")
        print(
            f"  in the request / nightly start: before {med(old):.2f} s, "
            f"after {med(new) * 1000:.1f} ms (check_run_create)"
        )
        print(
            f"  preparation: before {med(old):.2f} s ({med(old) * per10k:.2f} s / 10,000 "
            f"clients, in the request), after {med(prep):.2f} s "
            f"({med(prep) * per10k:.2f} s / 10,000 clients, in the worker)"
        )
        print(
            f"    samples before {[round(s, 2) for s in old]}, after {[round(s, 2) for s in prep]}"
        )
    samples = [request() for _ in range(args.runs + 1)][1:]
    print(
        f"\nPOST /reforme/registres/verifier-tout/ (whole request, test client): "
        f"median {statistics.median(samples) * 1000:.1f} ms, "
        f"{[round(s * 1000, 1) for s in samples]} ms"
    )
    if args.unnest:
        _unnest_experiment(firm, args.runs)


if __name__ == "__main__":
    main()

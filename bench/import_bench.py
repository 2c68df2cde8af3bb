#!/usr/bin/env python3
"""Import throughput: 100,000 clients with a contact each from a French CSV, then the
bulk API upsert rate. Runs on a fresh database of its own (bench/db.py).

    .venv/bin/python bench/import_bench.py [--rows 100000] [--api-calls 20]
    BENCH_PG_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/import_bench.py

Production settings (DEBUG off), as the task worker runs. Prints rows/s and the
process's peak resident memory. Target: 100,000 rows in ≤ 30 s, ≤ 512 MB, 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_csv(path: Path, rows: int, offset: int = 0) -> None:
    from vigie.lib.validators import make_siret

    forms = ["SARL", "SAS", "EI", "EURL", "SASU", "AUCUNE"]
    with open(path, "w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            [
                "Code client",
                "Raison sociale",
                "Forme juridique",
                "SIRET",
                "Code APE",
                "Nom",
                "Prénom",
                "E-mail",
                "Téléphone",
                "Doc. à classer",
            ]
        )
        for i in range(offset, offset + rows):
            writer.writerow(
                [
                    f"B{i:07d}",
                    f"Société Générale d'Édition n°{i}",
                    forms[i % len(forms)],
                    make_siret(f"{30000000 + i:08d}", "0001"),
                    "6201Z",
                    f"Lefèvre{i}",
                    "Amélie",
                    f"contact{i}@exemple.fr",
                    f"06 {i % 100:02d} {i // 100 % 100:02d} 12 34",
                    f"{i % 2000:,}".replace(",", " "),
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--api-calls", type=int, default=20)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    os.environ.setdefault("VIGIE_VAR_DIR", str(tmp))
    # Production settings, as the task worker runs: DEBUG keeps every SQL statement
    # (with its parameters) in memory and formats it, which is not what we measure.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("SHINE_API_KEY", "bench-api-key")
    os.environ.setdefault("SHINE_WEBHOOK_SECRET", "bench-webhook-secret")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # django.test.Client's host
    os.environ["DJANGO_SETTINGS_MODULE"] = "vigie.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.db import database_url

    # Its own database, fresh (bench/db.py: BENCH_PG_URL, DATABASE_URL's server or the
    # embedded one).
    os.environ["DATABASE_URL"] = database_url("vigie_bench_import", fresh=True)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client as HttpClient

    from vigie.firms.models import Firm
    from vigie.imports.models import Status
    from vigie.imports.services import import_create, import_run
    from vigie.integrations.services import api_key_create

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    firm = Firm.objects.create(name=f"Cabinet Bench {time.time():.0f}")
    path = tmp / "clients.csv"
    write_csv(path, args.rows)
    size = path.stat().st_size / 1024 / 1024
    print(f"database: {engine}; file: {args.rows:,} rows, {size:.1f} MB (Windows-1252, ';')")

    before = peak_mb()
    start = time.perf_counter()
    job = import_create(firm=firm, actor=None, path=str(path))
    job.status = Status.QUEUED
    job.save()
    job = import_run(job_id=job.pk)
    elapsed = time.perf_counter() - start
    print(
        f"import: {job.created_count:,} created, {job.rejected_count} rejected in {elapsed:.1f} s "
        f"= {args.rows / elapsed:,.0f} rows/s; peak RSS {peak_mb():.0f} MB "
        f"(before import {before:.0f} MB)"
    )

    start = time.perf_counter()
    job = import_create(firm=firm, actor=None, path=str(path))
    job.status = Status.QUEUED
    job.save()
    job = import_run(job_id=job.pk)
    elapsed = time.perf_counter() - start
    print(
        f"re-import of the same file: {job.unchanged_count:,} unchanged in {elapsed:.1f} s "
        f"= {args.rows / elapsed:,.0f} rows/s; peak RSS {peak_mb():.0f} MB"
    )

    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    _key, raw = api_key_create(firm=firm, actor=None, name="Bench")
    http = HttpClient()
    bodies = []
    for call in range(args.api_calls):
        rows = []
        for j in range(1000):
            i = 10_000_000 + call * 1000 + j
            rows.append(
                {
                    "code": f"API{i}",
                    "name": f"Client API {i}",
                    "legal_form": "SAS",
                    "contact": {
                        "last_name": f"Nom{i}",
                        "first_name": "Paul",
                        "email": f"api{i}@exemple.fr",
                        "phone": "0601020304",
                    },
                }
            )
        bodies.append(json.dumps({"clients": rows}))
    start = time.perf_counter()
    for body in bodies:
        response = http.post(
            "/api/v1/clients/bulk",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        assert response.status_code == 200, response.content[:300]
        assert response.json()["counts"]["created"] == 1000
    elapsed = time.perf_counter() - start
    total = args.api_calls * 1000
    print(
        f"bulk API (POST /api/v1/clients/bulk, 1,000 rows with a contact per call): "
        f"{total:,} rows in {elapsed:.1f} s = {total / elapsed:,.0f} rows/s "
        f"({elapsed / args.api_calls * 1000:.0f} ms per call)"
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A large portfolio export: what the request costs now (the worker prepares the file)
beside the old inline download, for the same firm in the same run.

    PYTHONPATH=. .venv/bin/python bench/export_bench.py [--clients 100000] [--xlsx]
    BENCH_PG_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/export_bench.py

Builds one firm of `--clients` clients with bench/generate.py (the demo's kind of rows,
written with COPY) on a fresh database of its own (bench/db.py), then, signed in as the
firm's admin through Django's test client in process, with production settings:

- « inline »: GET /portefeuille/export.csv with the threshold raised, the whole stream
  read (what every export did before);
- « ask »: the toolbar's POST with EXPORT_INLINE_MAX_ROWS at its default: the count, the
  export's row and its task queued, answered with a redirect to the export's page; then
  the same request again (the pending export reused) and its page;
- « worker »: the task's service writing the file (`export_run`), CSV, and XLSX with
  `--xlsx` (openpyxl: minutes for 100,000 rows).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# The whole firm (its count kept by triggers), two filters and a search (counted in SQL).
QUERIES = ["", "?sensi=non", "?mine=1", "?q=boulangerie"]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--xlsx", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vigie-bench-export-"))
    os.environ.setdefault("VIGIE_VAR_DIR", str(tmp))
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("SHINE_API_KEY", "bench-api-key")
    os.environ.setdefault("SHINE_WEBHOOK_SECRET", "bench-webhook-secret")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["DJANGO_SETTINGS_MODULE"] = "vigie.settings"
    from bench.db import database_url

    os.environ["DATABASE_URL"] = database_url("vigie_bench_export", fresh=True)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client as HttpClient

    from bench import generate
    from vigie.exports.models import PortfolioExport
    from vigie.exports.services import export_run
    from vigie.firms.models import Membership, Role

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    print(f"building one firm of {args.clients:,} clients (bench/generate.py)…")
    generate.build(firms=1, clients_per_firm=args.clients)
    admin = Membership.objects.filter(role=Role.ADMIN).select_related("user").first().user
    http = HttpClient()
    http.force_login(admin)
    http.get("/")  # warm the session, the lookups

    threshold = settings.EXPORT_INLINE_MAX_ROWS
    settings.EXPORT_INLINE_MAX_ROWS = 10**9
    start = time.perf_counter()
    response = http.get("/portefeuille/export.csv")
    size = sum(len(chunk) for chunk in response.streaming_content)
    inline = time.perf_counter() - start
    print(f"inline CSV (before): {_ms(inline)}, {size / 1e6:.1f} MB, status {response.status_code}")

    settings.EXPORT_INLINE_MAX_ROWS = threshold
    for query in QUERIES:
        url = f"/portefeuille/export.csv{query}"
        asks, agains, pages = [], [], []
        for _ in range(args.samples):
            PortfolioExport.objects.all().delete()
            start = time.perf_counter()
            response = http.post(url)  # the toolbar's button
            if response.status_code == 200:  # under the threshold: the file itself
                size = sum(len(chunk) for chunk in response.streaming_content)
                print(f"{url}: inline, {_ms(time.perf_counter() - start)}, {size:,} bytes")
                break
            asks.append(time.perf_counter() - start)
            assert response.status_code == 302, (url, response.status_code)
            start = time.perf_counter()
            assert http.post(url)["Location"] == response["Location"]
            agains.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert http.get(response["Location"]).status_code == 200
            pages.append(time.perf_counter() - start)
        if not asks:
            continue
        rows = PortfolioExport.objects.get().rows
        print(
            f"ask {query or '(whole firm)'} ({rows:,} matches, threshold {threshold:,}): p50 "
            f"{_ms(statistics.median(asks))}, max {_ms(max(asks))} ({args.samples} samples); "
            f"asked again (reused): p50 {_ms(statistics.median(agains))}; its page: p50 "
            f"{_ms(statistics.median(pages))}"
        )
    PortfolioExport.objects.all().delete()
    http.post("/portefeuille/export.csv")
    job = PortfolioExport.objects.get()
    start = time.perf_counter()
    export_run(export_id=job.pk)
    job.refresh_from_db()
    print(
        f"worker CSV: {_ms(time.perf_counter() - start)} ({job.state}, {job.rows:,} rows, "
        f"{job.file.size / 1e6:.1f} MB)"
    )
    if args.xlsx:
        http.post("/portefeuille/export.xlsx")
        job = PortfolioExport.objects.get(fmt="xlsx")
        start = time.perf_counter()
        export_run(export_id=job.pk)
        job.refresh_from_db()
        print(f"worker XLSX: {_ms(time.perf_counter() - start)} ({job.state}, {job.rows:,} rows)")
    print(f"load average: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

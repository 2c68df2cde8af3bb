#!/usr/bin/env python3
"""XLSX bombs against a running console: `make bench-xlsx-bomb`.

gunicorn (production settings, 4 sync workers as docs/DEPLOY.md says for 2 cores) serves
two firms of a few thousand clients built by bench/generate.py, on PostgreSQL (database
`vigie_bench_xlsx`, created here, built once and reused; BENCH_XLSX_PG_URL to change it).
A collaborator of the second firm asks for their portfolio at a fixed rate (20 requests/s
on a schedule, each latency counted from its scheduled time, so a stalled server cannot
hide its queue), first alone (the reference), then while the first firm's admin uploads,
back to back, the bombs of tests/security/test_security_uploads.py:

- the dimension bomb: a few kB whose <dimension> claims A1:XFD1048576, cells in rows 1, 2
  and 1,048,576 (openpyxl's read-only mode used to pad every cell of that range);
- the deflate bomb: ~200 kB that inflate to 188 MB of sheet XML.

Then a bomb that hides its extent (no <dimension>): the upload accepts it, the worker's
count refuses it; the worker is run here, in-process, and timed.

Prints each bomb's time to be refused (the upload's round trip) and the portfolio's
p50/p95 during the uploads beside the reference. Targets: every bomb refused in < 2 s,
the portfolio's p95 during the uploads < 2 × the reference's + 50 ms, no error.

    .venv/bin/python bench/xlsx_bomb_bench.py [--seconds 15] [--rate 20] [--workers 4]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_XLSX_PG_URL", "postgres://root@127.0.0.1:5432/vigie_bench_xlsx")
CLIENTS_PER_FIRM = 3000
TARGET_REFUSAL_S = 2.0


def _env(var_dir: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigie.settings",
        "DATABASE_URL": DB_URL,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "SHINE_API_KEY": "bench-only",
        "SHINE_WEBHOOK_SECRET": "bench-only",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_MANIFEST": "0",
        "VIGIE_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "ERROR",
    }


def _create_database() -> None:
    import psycopg

    base, name = DB_URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _ensure_data() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from bench.generate import build
    from vigie.firms.models import Firm

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    names = set(Firm.objects.values_list("name", flat=True))
    if {"Bench 0", "Bench 1"} <= names:
        return
    if names:
        raise SystemExit(f"{DB_URL} holds other firms: give the bench its own database.")
    print(f"Building 2 firms of {CLIENTS_PER_FIRM} clients (bench/generate.py, once)…")
    build(firms=2, clients_per_firm=CLIENTS_PER_FIRM, log=lambda *a, **k: None)


def _session(email: str) -> dict:
    """Cookies of a signed-in session (and its CSRF token) for `email`."""
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    from bench.generate import BENCH_PASSWORD

    http = Client()
    assert http.login(email=email, password=BENCH_PASSWORD), email
    return {
        settings.SESSION_COOKIE_NAME: http.cookies[settings.SESSION_COOKIE_NAME].value,
        "csrftoken": _get_new_csrf_string(),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _paced(base: str, cookies: dict, rate: float, seconds: float) -> list[tuple[float, int]]:
    """GET the portfolio `rate` times a second for `seconds`, each on its own thread at its
    scheduled time: (ms from the scheduled time to the response, status) of each."""
    import requests

    def one(at: float) -> tuple[float, int]:
        try:
            status = requests.get(f"{base}/", cookies=cookies, timeout=30).status_code
        except requests.RequestException:
            status = 0
        return (time.monotonic() - at) * 1000, status

    start = time.monotonic() + 0.1
    futures = []
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(int(rate * seconds)):
            at = start + i / rate
            time.sleep(max(0.0, at - time.monotonic()))
            futures.append(pool.submit(one, at))
        return [f.result() for f in futures]


def _upload(base: str, cookies: dict, name: str, content: bytes, timeout: float):
    """(response or None if not answered within `timeout`, seconds)."""
    import requests

    started = time.monotonic()
    try:
        response = requests.post(
            f"{base}/imports/",
            files={"file": (name, content, "application/octet-stream")},
            data={"csrfmiddlewaretoken": cookies["csrftoken"]},
            cookies=cookies,
            allow_redirects=False,
            timeout=timeout,
        )
    except requests.Timeout:
        response = None
    return response, time.monotonic() - started


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def _line(label: str, results: list[tuple[float, int]]) -> tuple[float, int]:
    times = [ms for ms, _ in results]
    errors = sum(1 for _, status in results if status != 200)
    print(
        f"| {label} | {len(results)} | {_p(times, 0.5):.1f} | {_p(times, 0.95):.1f} | "
        f"{max(times, default=0):.1f} | {errors} |"
    )
    return _p(times, 0.95), errors


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="vigie-bomb-"))
    os.environ.update(_env(var_dir))
    try:
        _create_database()
    except Exception as exc:  # noqa: BLE001 - any failure means "skip", as bench/run.py does
        print(f"PostgreSQL unreachable at {DB_URL} ({type(exc).__name__}: {exc}): skipped.")
        return 0
    _ensure_data()
    from django.db import connection

    from tests.security.test_security_uploads import deflate_bomb, dimension_bomb

    admin = _session("bench0-0@bench.test")  # admin of « Bench 0 »: the uploads
    reader = _session("bench1-1@bench.test")  # collaborator of « Bench 1 »: the portfolio
    bombs = {"dimension bomb": dimension_bomb(), "deflate bomb": deflate_bomb()}
    hidden = dimension_bomb(dimension=None)
    connection.close()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = var_dir / "gunicorn.log"  # Django logs each refusal (422) there
    gunicorn = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "vigie.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--workers", str(args.workers), "--log-level", "warning"),
        ],
        env=os.environ.copy(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        start_new_session=True,  # its own process group: a worker stuck in a request ends too
    )
    refusals: dict[str, list[float]] = {name: [] for name in bombs}
    unanswered: list[str] = []
    wrong: list[str] = []
    worker = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        _paced(base, reader, args.rate, 3)  # warm-up: every worker imports and connects
        reference = _paced(base, reader, args.rate, args.seconds)

        during: list[tuple[float, int]] = []
        portfolio = threading.Thread(
            target=lambda: during.extend(_paced(base, reader, args.rate, args.seconds))
        )
        ends = time.monotonic() + args.seconds
        portfolio.start()
        while time.monotonic() < ends and not unanswered:
            for name, content in bombs.items():
                left = ends - time.monotonic() + 5
                response, seconds = _upload(base, admin, f"{name.split()[0]}.xlsx", content, left)
                if response is None:
                    unanswered.append(f"{name}: no answer after {seconds:.0f} s")
                    break
                refusals[name].append(seconds)
                text = response.content.decode(errors="replace")
                if response.status_code != 422 or "Le fichier" not in text:
                    wrong.append(f"{name}: {response.status_code}")
        portfolio.join()

        if not unanswered:
            response, hidden_upload = _upload(base, admin, "cachee.xlsx", hidden, 60)
            if response is not None and response.status_code == 302:
                worker, status, message = _hidden_run(response.headers["Location"])
            else:
                wrong.append(f"hidden-extent bomb: upload answered {response}")
    finally:
        gunicorn.terminate()
        try:
            gunicorn.wait(20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(gunicorn.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        gunicorn.wait()

    sizes = {name: len(content) for name, content in bombs.items()}
    print(
        f"\nXLSX bombs: gunicorn {args.workers} sync workers, PostgreSQL, 2 firms of "
        f"{CLIENTS_PER_FIRM} clients; the portfolio of the second firm asked "
        f"{args.rate:g} times a second for {args.seconds:g} s, latency from the scheduled time\n"
    )
    print("| bomb | size | uploads | refused in, median (s) | max (s) |")
    print("|---|---|---|---|---|")
    for name, times in refusals.items():
        median = f"{statistics.median(times):.3f}" if times else "–"
        print(
            f"| {name} | {sizes[name] / 1024:.0f} kB | {len(times)} | "
            f"{median} | {max(times, default=0):.3f} |"
        )
    for text in unanswered:
        print(f"NOT REFUSED: {text}")
    print("\n| portfolio (other firm) | requests | p50 ms | p95 ms | max ms | errors |")
    print("|---|---|---|---|---|---|")
    reference_p95, reference_errors = _line("alone (reference)", reference)
    during_p95, during_errors = _line("during the uploads", during)
    if worker is not None:
        print(
            f"\nHidden-extent bomb (no <dimension>): upload accepted in {hidden_upload:.3f} s "
            f"(first rows only); the worker refused it in {worker:.3f} s: {status}, « {message} »"
        )
        if status != "echec":
            wrong.append(f"hidden-extent bomb: job {status}")
    slowest = max(max(times, default=0) for times in refusals.values())
    checks = [
        (
            slowest < TARGET_REFUSAL_S and not unanswered,
            f"slowest refusal {slowest:.3f} s < {TARGET_REFUSAL_S} s",
        ),
        (
            worker is not None and worker < TARGET_REFUSAL_S,
            f"hidden-extent bomb refused by the worker in < {TARGET_REFUSAL_S} s",
        ),
        (
            during_p95 < 2 * reference_p95 + 50,
            f"portfolio p95 during the uploads {during_p95:.1f} ms < 2 × {reference_p95:.1f} + 50",
        ),
        (
            not wrong and reference_errors + during_errors == 0,
            f"every bomb refused with a French message, no portfolio error {wrong or ''}",
        ),
    ]
    print()
    for ok, text in checks:
        print(f"  [{'OK' if ok else 'FAIL'}] {text}")
    print(f"Load average (1, 5, 15 min): {os.getloadavg()}")
    return 0 if all(ok for ok, _ in checks) else 1


def _hidden_run(job_url: str) -> tuple[float, str, str]:
    """Queue the accepted import with its guessed mapping, then run the worker's task here."""
    from vigie.imports.models import ImportJob, Status
    from vigie.imports.services import import_run

    public_id = job_url.rstrip("/").rsplit("/", 1)[-1]
    ImportJob.objects.filter(public_id=public_id).update(status=Status.QUEUED)
    job = ImportJob.objects.get(public_id=public_id)
    started = time.monotonic()
    job = import_run(job_id=job.pk)
    return time.monotonic() - started, job.status, job.error_message


if __name__ == "__main__":
    sys.exit(main())

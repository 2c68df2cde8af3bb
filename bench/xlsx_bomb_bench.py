#!/usr/bin/env python3
"""XLSX bombs against a running console: `make bench-xlsx-bomb`.

gunicorn (production settings, 4 sync workers as docs/DEPLOY.md says for 2 cores) and a
task worker (`vigie db_worker --interval 0.5`, as deployed) serve two firms of a few
thousand clients built by bench/generate.py, on PostgreSQL (database `vigie_bench_xlsx`
of bench/db.py's server, built once and reused). A collaborator of
the second firm asks for their portfolio at a fixed rate (20 requests/s on a schedule,
each latency counted from its scheduled time, so a stalled server cannot hide its queue),
first alone (the reference), then while the first firm's admin uploads, back to back, the
bombs of tests/security/test_security_uploads.py:

- the deflate bomb: ~650 kB that inflate to 188 MB of sheet XML, refused by the upload
  from the ZIP's directory;
- the dimension bomb: a few kB whose <dimension> claims A1:XFD1048576, cells in rows 1, 2
  and 1,048,576 (openpyxl's read-only mode used to pad every cell of that range in the
  upload request), and the same without <dimension>: the upload stores them, the worker's
  read fails the job; timed until the job page (polled as the browser does) says so.

Prints each bomb's time to be refused and the portfolio's p50/p95 during the uploads
beside the reference. Targets: every bomb refused in < 2 s, the portfolio's p95 during
the uploads < 2 × the reference's + 50 ms, no error.

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
DB_NAME = "vigie_bench_xlsx"
CLIENTS_PER_FIRM = 3000
TARGET_REFUSAL_S = 2.0


def _env(var_dir: Path, db_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigie.settings",
        "DATABASE_URL": db_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "SHINE_API_KEY": "bench-only",
        "SHINE_WEBHOOK_SECRET": "bench-only",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_MANIFEST": "0",
        "VIGIE_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "ERROR",
    }


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
        raise SystemExit("The bench's database holds other firms: give it its own.")
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

    from bench.db import database_url

    var_dir = Path(tempfile.mkdtemp(prefix="vigie-bomb-"))
    os.environ.update(_env(var_dir, database_url(DB_NAME)))
    _ensure_data()
    from django.db import connection

    from tests.security.test_security_uploads import deflate_bomb, dimension_bomb

    admin = _session("bench0-0@bench.test")  # admin of « Bench 0 »: the uploads
    reader = _session("bench1-1@bench.test")  # collaborator of « Bench 1 »: the portfolio
    bombs = {
        "deflate bomb": deflate_bomb(),
        "dimension bomb": dimension_bomb(),
        "dimension bomb without <dimension>": dimension_bomb(dimension=None),
    }
    connection.close()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (var_dir / "servers.log").open("w")  # Django logs each refusal (422) there
    servers = [
        subprocess.Popen(
            command,
            env=os.environ.copy(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # a process group: a worker stuck in a request ends too
        )
        for command in (
            [
                *(sys.executable, "-m", "gunicorn", "vigie.wsgi", "--bind", f"127.0.0.1:{port}"),
                *("--workers", str(args.workers), "--log-level", "warning"),
            ],
            [sys.executable, "-m", "vigie", "db_worker", "--interval", "0.5"],
        )
    ]
    refusals: dict[str, list[float]] = {name: [] for name in bombs}
    unanswered: list[str] = []
    wrong: list[str] = []
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
                seconds, outcome = _refusal(base, admin, content, left)
                if seconds is None:
                    unanswered.append(f"{name}: {outcome}")
                    break
                refusals[name].append(seconds)
                if outcome:
                    wrong.append(f"{name}: {outcome}")
        portfolio.join()
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait()
        log.close()

    sizes = {name: len(content) for name, content in bombs.items()}
    print(
        f"\nXLSX bombs: gunicorn {args.workers} sync workers and a task worker, PostgreSQL, "
        f"2 firms of {CLIENTS_PER_FIRM} clients; the portfolio of the second firm asked "
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
    slowest = max(max(times, default=0) for times in refusals.values())
    checks = [
        (
            slowest < TARGET_REFUSAL_S and not unanswered,
            f"slowest refusal {slowest:.3f} s < {TARGET_REFUSAL_S} s",
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


def _refusal(base: str, cookies: dict, content: bytes, timeout: float):
    """Upload `content` and wait for its refusal: by the upload (422), or by the worker on
    the job's page, polled as the browser does. (seconds or None, what went wrong or "")."""
    import requests

    started = time.monotonic()
    response, _ = _upload(base, cookies, "bombe.xlsx", content, timeout)
    if response is None:
        return None, f"no answer after {timeout:.0f} s"
    if response.status_code == 422:
        refused = "Le fichier" in response.content.decode(errors="replace")
        return time.monotonic() - started, "" if refused else "422 without the French message"
    if response.status_code != 302:
        return time.monotonic() - started, f"upload answered {response.status_code}"
    progress = f"{base}{response.headers['Location']}progression/"
    while time.monotonic() - started < timeout:
        page = requests.get(progress, cookies=cookies, allow_redirects=False, timeout=timeout)
        if 'data-status="echec"' in page.text:
            refused = "Le fichier dépasse" in page.text
            return time.monotonic() - started, "" if refused else "failed without the message"
        if page.status_code != 200:
            return time.monotonic() - started, f"accepted: progress answered {page.status_code}"
        time.sleep(0.05)
    return None, f"the job not failed after {timeout:.0f} s"


if __name__ == "__main__":
    sys.exit(main())

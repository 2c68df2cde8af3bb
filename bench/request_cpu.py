"""CPU per request, in process, on the firm of `make load` (its database must exist:
`make load` or `make load-open` builds it).

    DATABASE_URL=postgres://…/vigie_load .venv/bin/python bench/request_cpu.py

Run it from another checkout (a worktree of an older commit, with PYTHONPATH set to it and
its own load database) to compare two trees on the same machine. Prints, for each request,
the best of 3 × 20 CPU times (time.thread_time) after a warm-up, and its statements.

    … bench/request_cpu.py --mix

replays instead the mix of `make load` (load/run.py's `_requests`: portfolio pages, full
and htmx, searches, client pages, contact edits) once after a warm-up, and prints the CPU
per request of each kind and each kind's share of the whole: where the time goes under load.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
os.environ.setdefault("SHINE_API_KEY", "bench")
os.environ.setdefault("SHINE_WEBHOOK_SECRET", "bench")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

import vigie  # noqa: E402
from vigie.accounts.models import User  # noqa: E402
from vigie.clients.models import Client as FirmClient  # noqa: E402
from vigie.firms.models import Firm  # noqa: E402

HTMX = {"HX-Request": "true"}


def main() -> None:
    firm = Firm.objects.order_by("id").first()
    user = User.objects.filter(membership__firm=firm, is_active=True).first()
    browser = Client()
    browser.force_login(user)
    code = FirmClient.objects.filter(firm=firm).values_list("code", flat=True)[5]
    cases = [
        ("full portfolio page", "/", {}),
        ("htmx page 2", "/?page=2", HTMX),
        ("htmx Collecte view, page 3", "/?view=collecte&page=3", HTMX),
        ("htmx search martin", "/?q=martin", HTMX),
        ("htmx 100 rows", "/?per_page=100&page=7", HTMX),
        ("client page", f"/clients/{code}/", {}),
        ("Collaborateurs page", "/parametres/collaborateurs/", {}),
    ]
    print(f"{firm.name}; code of {vigie.__file__}")
    for _name, path, headers in cases:
        for _ in range(5):
            browser.get(path, headers=headers)
    for name, path, headers in cases:
        times = []
        for _ in range(3):
            start = time.thread_time()
            for _ in range(20):
                response = browser.get(path, headers=headers)
            times.append((time.thread_time() - start) / 20 * 1000)
        with CaptureQueriesContext(connection) as queries:
            browser.get(path, headers=headers)
        print(
            f"{name:28s} {response.status_code} {min(times):6.2f} ms CPU  {len(queries)} statements"
        )


def _kind(method: str, path: str) -> str:
    if method == "POST":
        return "contact edit"
    if path.startswith("/clients/"):
        return "client page"
    if "q=" in path:
        return "search (htmx)"
    return "portfolio, full page" if method == "GET" else "portfolio (htmx)"


def mix(count: int = 1500, warm_up: int = 300) -> None:
    """The load mix once, in process: CPU per request of each kind and its share."""
    from load.run import _requests  # the mix of the tree measured

    firm = Firm.objects.order_by("id").first()
    user = User.objects.filter(membership__firm=firm, is_active=True).first()
    browser = Client()
    browser.force_login(user)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mix.txt"
        _requests(path, count=count)
        lines = [line.split("\t") for line in path.read_text().splitlines() if line]
    cpu: Counter = Counter()
    seen: Counter = Counter()
    for n, (method, url, body) in enumerate(lines[:warm_up] + lines):
        start = time.thread_time()
        if method == "POST":
            response = browser.post(url, dict(parse_qsl(body)), headers=HTMX)
        else:
            response = browser.get(url, headers=HTMX if method == "HXGET" else {})
        spent = time.thread_time() - start
        if n < warm_up or response.status_code == 404:  # warm-up; another firm's code
            continue
        assert response.status_code < 400, (url, response.status_code)
        cpu[_kind(method, url)] += spent
        seen[_kind(method, url)] += 1
    total = sum(cpu.values())
    print(f"{firm.name}; code of {vigie.__file__}")
    print(f"{'all':22s} {total / sum(seen.values()) * 1000:6.2f} ms CPU  n={sum(seen.values())}")
    for kind in sorted(seen):
        print(
            f"{kind:22s} {cpu[kind] / seen[kind] * 1000:6.2f} ms CPU  n={seen[kind]:4d}"
            f"  {cpu[kind] / total:4.0%} of the CPU"
        )


if __name__ == "__main__":
    mix() if "--mix" in sys.argv else main()

"""Loaded by pytest before Django's settings: the environment tests run in.

Tests use a throw-away secret and never need one in the environment; everything
else comes from the caller. Without DATABASE_URL, the tests run on the embedded
PostgreSQL (vigie.lib.embedded_pg): started here unless it is already up, stopped at
the end only if started here, and handed as DATABASE_URL to the processes tests start.
"""

from __future__ import annotations

import os

from vigie.lib import embedded_pg

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret-" + "x" * 40)
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")  # no collectstatic before tests
os.environ.setdefault("SHINE_API_KEY", "sandbox-api-key")
os.environ.setdefault("SHINE_WEBHOOK_SECRET", "sandbox-webhook-secret")
os.environ.setdefault("SHINE_RETRIES", "0")  # tests that want retries ask for them
# No partner unless a test starts the sandbox (port 9 is closed): never a developer's own.
os.environ.setdefault("SHINE_API_URL", "http://127.0.0.1:9")

_started_here = False
if not os.environ.get("DATABASE_URL"):
    # xdist's workers inherit DATABASE_URL from the controller: only one process starts it.
    os.environ["DATABASE_URL"], _started_here = embedded_pg.ensure_running()


def pytest_unconfigure(config) -> None:
    if _started_here:
        embedded_pg.stop()

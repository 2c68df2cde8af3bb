"""The PostgreSQL database a bench runs on: its own, on the server of BENCH_PG_URL,
else of DATABASE_URL, else the embedded server (vigie/lib/embedded_pg.py), started if
needed and left up for the next run (`make db-stop` stops it)."""

from __future__ import annotations

import os

import psycopg


def server_url() -> str:
    """A URL of the server, ending in a database name to replace."""
    for name in ("BENCH_PG_URL", "DATABASE_URL"):
        if os.environ.get(name):
            return os.environ[name]
    from vigie.lib.embedded_pg import ensure_running

    return ensure_running()[0]


def database_url(name: str, *, fresh: bool = False) -> str:
    """The URL of database `name` on the bench's server, created if missing (dropped and
    created again when `fresh`). BENCH_PG_URL names the database itself."""
    url = os.environ.get("BENCH_PG_URL") or server_url().rsplit("/", 1)[0] + f"/{name}"
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url

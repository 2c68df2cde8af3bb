"""Database connections: psycopg's pool in each process (Django's OPTIONS["pool"]), or
persistent connections behind PgBouncer. A connection given back at the end of a request
stays open for the next; one the server has ended is replaced before it is used."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection

from vigie.settings import _databases

pytestmark = pytest.mark.django_db(transaction=True)


def _pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _other():
    return psycopg.connect(**connection.get_connection_params(), autocommit=True)


def test_a_connection_given_back_stays_open_for_the_next_request():
    assert connection.pool is not None
    pid = _pid()
    connection.close()  # the end of a request (CONN_MAX_AGE 0: back to the pool)
    with _other() as other:
        row = other.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row == ("idle",)


def test_connections_the_server_ended_are_replaced():
    _pid()
    connection.close()
    with _other() as other:
        others = "datname = current_database() AND pid <> pg_backend_pid()"
        other.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}")
        deadline = time.monotonic() + 5
        while other.execute(f"SELECT 1 FROM pg_stat_activity WHERE {others}").fetchone():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert _pid()  # no error: the pool checked the dead ones and opened a new one


def test_behind_pgbouncer_connections_persist_without_the_pool(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://vigie@pgbouncer:6432/vigie")
    monkeypatch.setenv("DB_POOLER", "pgbouncer")
    behind = _databases()["default"]
    assert "pool" not in behind["OPTIONS"]
    assert behind["CONN_MAX_AGE"] == 60
    assert behind["CONN_HEALTH_CHECKS"]
    monkeypatch.setenv("DB_POOLER", "")
    monkeypatch.setenv("DB_POOL_SIZE", "8")
    direct = _databases()["default"]
    assert direct["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 8}
    assert direct["CONN_MAX_AGE"] == 0

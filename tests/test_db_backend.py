"""The PostgreSQL backend's health check (vigie.lib.postgresql): a connection the server
has not ended is kept without a round trip; one it has ended is replaced."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def _last_statement(pid: int) -> str:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        row = other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return row[0]


def _health_check() -> None:
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def test_a_quiet_connection_is_kept_without_asking_the_server():
    assert connection.health_check_enabled
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last statement'")
    pid = connection.connection.info.backend_pid
    _health_check()
    assert connection.connection is not None
    assert connection.connection.info.backend_pid == pid
    assert _last_statement(pid) == "SELECT 'the last statement'"


def test_a_connection_the_server_ended_is_replaced():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while connection._quiet() and time.monotonic() < deadline:
        time.sleep(0.05)
    _health_check()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid

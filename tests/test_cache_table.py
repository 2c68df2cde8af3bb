"""Sessions are read through the `default` cache (settings.SESSION_ENGINE): its table is
made by every `migrate`, so no database is left without it (a bench's, a new server's)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


def test_migrate_makes_the_cache_table():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE vigie_cache")  # undone with the test's transaction
    assert "vigie_cache" not in _tables()
    call_command("migrate", verbosity=0)
    assert "vigie_cache" in _tables()

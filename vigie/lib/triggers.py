"""Tables kept by database triggers (vigie.clients.rowversion, vigie.clients.directory).

Each module writes its statements for each database; its migration installs them through
`Kept`, and a load that turned the triggers off (bench/generate.py) fills in afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kept:
    """A table and its triggers: statements by database vendor."""

    create: dict[str, list[str]]
    drop: dict[str, list[str]]
    # One statement giving its row to every source row without one.
    backfill: dict[str, str]
    triggers: tuple[str, ...]

    def install(self, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in self.create:
            return
        for sql in [*self.create[vendor], self.backfill[vendor]]:
            schema_editor.execute(sql)

    def remove(self, schema_editor) -> None:
        for sql in self.drop.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    def fill(self, using=None) -> None:
        from django.db import connection, connections

        conn = connections[using] if using else connection
        with conn.cursor() as cursor:
            cursor.execute(self.backfill[conn.vendor])


def present(connection) -> set[str]:
    """The names of the triggers the database has (a table rebuilt by a later SQLite
    migration loses its own)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {name for (name,) in cursor.fetchall()}

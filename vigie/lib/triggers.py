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


# -- PostgreSQL statement triggers ----------------------------------------------------

TRANSITIONS = {
    "ins": ("INSERT", "NEW TABLE AS new_rows"),
    "upd": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "del": ("DELETE", "OLD TABLE AS old_rows"),
}


def postgres_touch(function: str, table: str, key: str, sequence: str) -> str:
    """A function for statement triggers: a new version (`nextval(sequence)`) for each row
    of `table` whose `key` the changed rows carry (a column of both). The keys as an
    array, read by primary key: as `IN (SELECT …)` PostgreSQL, which knows nothing of a
    transition table's size, may hash it against a scan of the whole table, once per
    statement of an import."""
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
DECLARE
  touched bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    touched := ARRAY(SELECT DISTINCT {key} FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    touched := ARRAY(SELECT DISTINCT {key} FROM old_rows);
  ELSE
    touched := ARRAY(SELECT {key} FROM new_rows UNION SELECT {key} FROM old_rows);
  END IF;
  UPDATE {table} SET version = nextval('{sequence}') WHERE {key} = ANY(touched);
  RETURN NULL;
END
$$ LANGUAGE plpgsql"""


def postgres_statement_triggers(prefix: str, table: str, function: str) -> list[str]:
    """`{prefix}_ins`, `_upd` and `_del` on `table`, each once per statement with its
    transition tables (one event per trigger: PostgreSQL's rule for them)."""
    return [
        f"CREATE TRIGGER {prefix}_{op} AFTER {event} ON {table} REFERENCING {tables} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        for op, (event, tables) in TRANSITIONS.items()
    ]

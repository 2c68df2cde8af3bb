"""Each client's row version: a new value whenever what its portfolio row shows changes.

The portfolio keeps the HTML of its rows between requests, keyed by this version
(vigie.clients.portfolio.rowcache). Triggers give the client a new version in the same
transaction as the change, whatever writes it (the ORM, an import, raw SQL):

- any update of the client itself;
- an insert, update or delete of one of its contacts, assignments, equipment or
  invitations (each touches its client, whose own trigger then gives the version).

A version is never reused, even after a rollback: on PostgreSQL it comes from a sequence
(sequences are not transactional), on SQLite it is a random 64-bit integer. HTML rendered
at a version that was rolled back can never be served for another state.

The collaborators' names and the catalogue of solutions are not versioned here: the page
reads them on every request, and the cache's key carries them.

Touching the client locks its row until the transaction ends, as the counts of
vigie.clients.counts lock the firm's. On PostgreSQL the child tables' triggers run once
per statement (transition tables), so a bulk insert of contacts touches each client once.
"""

from __future__ import annotations

from django.db.models import BigIntegerField, Func

CLIENT_TABLE = "clients_client"
SEQUENCE = "clients_row_version_seq"
# Tables whose rows show in their client's portfolio row; each has a client_id column.
CHILD_TABLES = (
    "clients_contact",
    "clients_clientassignment",
    "equipment_equipment",
    "invitations_invitation",
)


class NewRowVersion(Func):
    """The column's default: the next value of the sequence, a random integer on SQLite."""

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return "random()", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return f"nextval('{SEQUENCE}')", []


POSTGRES_COLUMN = [
    # Room in each page for the new version of a row: a change of version alone (a contact
    # edited) changes no indexed column, and PostgreSQL then updates the row in its page
    # without a new entry in each of the table's indexes (a HOT update). Adding the column
    # rewrites the table, with this room.
    f"ALTER TABLE {CLIENT_TABLE} SET (fillfactor = 90)",
    f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}",
    f"ALTER TABLE {CLIENT_TABLE} ADD COLUMN row_version bigint NOT NULL "
    f"DEFAULT nextval('{SEQUENCE}')",
]
# SQLite adds a column with a constant default only; the insert trigger below replaces it.
SQLITE_COLUMN = [
    f"ALTER TABLE {CLIENT_TABLE} ADD COLUMN row_version integer NOT NULL DEFAULT 0",
    f"UPDATE {CLIENT_TABLE} SET row_version = random()",
]

POSTGRES_SQL = [
    f"""
CREATE OR REPLACE FUNCTION clients_client_row_version() RETURNS trigger AS $$
BEGIN
  NEW.row_version := nextval('{SEQUENCE}');
  RETURN NEW;
END
$$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER clients_client_row_version BEFORE UPDATE ON {CLIENT_TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION clients_client_row_version()",
    # `SET row_version = row_version`: the client's BEFORE UPDATE trigger gives the new one.
    # The clients as an array, read by primary key: as `IN (SELECT …)` PostgreSQL, which
    # knows nothing of a transition table's size, hashed it against a scan of every
    # client, once per statement of an import.
    f"""
CREATE OR REPLACE FUNCTION clients_touch_client() RETURNS trigger AS $$
DECLARE
  touched bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    touched := ARRAY(SELECT DISTINCT client_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    touched := ARRAY(SELECT DISTINCT client_id FROM old_rows);
  ELSE
    touched := ARRAY(SELECT client_id FROM new_rows UNION SELECT client_id FROM old_rows);
  END IF;
  UPDATE {CLIENT_TABLE} SET row_version = row_version
  WHERE id = ANY(touched);
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
]
for _table in CHILD_TABLES:
    POSTGRES_SQL += [
        f"CREATE TRIGGER {_table}_touch_ins AFTER INSERT ON {_table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION clients_touch_client()",
        f"CREATE TRIGGER {_table}_touch_upd AFTER UPDATE ON {_table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION clients_touch_client()",
        f"CREATE TRIGGER {_table}_touch_del AFTER DELETE ON {_table} "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION clients_touch_client()",
    ]
POSTGRES_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_touch_{op} ON {t}"
        for t in CHILD_TABLES
        for op in ("ins", "upd", "del")
    ),
    f"DROP TRIGGER IF EXISTS clients_client_row_version ON {CLIENT_TABLE}",
    "DROP FUNCTION IF EXISTS clients_touch_client()",
    "DROP FUNCTION IF EXISTS clients_client_row_version()",
]

# SQLite: no statement-level triggers, no BEFORE trigger that changes NEW. The client's
# AFTER UPDATE trigger writes the version; its own UPDATE does not fire it again
# (SQLite's recursive_triggers is off, its default, which Django keeps).
SQLITE_SQL = [
    f"CREATE TRIGGER clients_client_row_version AFTER UPDATE ON {CLIENT_TABLE} "
    f"BEGIN UPDATE {CLIENT_TABLE} SET row_version = random() WHERE id = new.id; END",
    # A table rebuilt by a later migration has the column's default, random(), instead.
    f"CREATE TRIGGER clients_client_row_version_ins AFTER INSERT ON {CLIENT_TABLE} "
    f"WHEN new.row_version = 0 "
    f"BEGIN UPDATE {CLIENT_TABLE} SET row_version = random() WHERE id = new.id; END",
]
_TOUCH = f"UPDATE {CLIENT_TABLE} SET row_version = row_version WHERE id"
for _table in CHILD_TABLES:
    SQLITE_SQL += [
        f"CREATE TRIGGER {_table}_touch_ins AFTER INSERT ON {_table} "
        f"BEGIN {_TOUCH} = new.client_id; END",
        f"CREATE TRIGGER {_table}_touch_upd AFTER UPDATE ON {_table} "
        f"BEGIN {_TOUCH} IN (new.client_id, old.client_id); END",
        f"CREATE TRIGGER {_table}_touch_del AFTER DELETE ON {_table} "
        f"BEGIN {_TOUCH} = old.client_id; END",
    ]
SQLITE_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_touch_{op}"
        for t in CHILD_TABLES
        for op in ("ins", "upd", "del")
    ),
    "DROP TRIGGER IF EXISTS clients_client_row_version",
    "DROP TRIGGER IF EXISTS clients_client_row_version_ins",
]

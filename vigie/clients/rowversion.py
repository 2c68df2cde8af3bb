"""Each client's row version: a new value whenever what its portfolio row shows changes.

The portfolio keeps the HTML of its rows between requests, keyed by this version
(vigie.clients.portfolio.rowcache). The versions live in a narrow table of their own,
`clients_rowversion` (client, firm, version), kept by triggers in the same transaction
as the change, whatever writes it (the ORM, an import, raw SQL):

- a client inserted gets its row, updated a new version, deleted loses its row;
- an insert, update or delete of one of its contacts, assignments, equipment or
  invitations gives the client a new version.

A narrow table rather than a column of clients_client: a new version rewrites a row of
three numbers (one index), not a client's row (ten indexes, a trigram one among them),
and an import that writes a client then its contact touches nothing wide twice.

A version is never reused, even after a rollback: on PostgreSQL it comes from a sequence
(sequences are not transactional), on SQLite it is a random 64-bit integer. HTML rendered
at a version that was rolled back can never be served for another state. A client
without a row (written while the triggers were off: bench/generate.py, which calls
`backfill()` afterwards) is rendered on every page, never kept.

The collaborators' names and the catalogue of solutions are not versioned here: the page
reads them on every request, and the cache's key carries them.

Touching a client locks its version row until the transaction ends, as the counts of
vigie.clients.counts lock the firm's row. On PostgreSQL the triggers run once per
statement (transition tables), the touched clients read by primary key.
"""

from __future__ import annotations

from vigie.lib.triggers import Kept, postgres_statement_triggers, postgres_touch

CLIENT_TABLE = "clients_client"
TABLE = "clients_rowversion"
SEQUENCE = "clients_row_version_seq"
# Tables whose rows show in their client's portfolio row; each has a client_id column.
CHILD_TABLES = (
    "clients_contact",
    "clients_clientassignment",
    "equipment_equipment",
    "invitations_invitation",
)
NEW_VERSION = {"postgresql": f"nextval('{SEQUENCE}')", "sqlite": "random()"}

# -- PostgreSQL ------------------------------------------------------------------------

POSTGRES_SQL = [
    f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}",
    # Half of each page free: a new version is written in the row's own page (a HOT
    # update, no new index entry).
    f"CREATE TABLE {TABLE} (client_id bigint PRIMARY KEY, firm_id bigint NOT NULL, "
    "version bigint NOT NULL) WITH (fillfactor = 50)",
    f"""
CREATE OR REPLACE FUNCTION clients_rowversion_client() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {TABLE} (client_id, firm_id, version)
    SELECT id, firm_id, nextval('{SEQUENCE}') FROM new_rows
    ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, version = EXCLUDED.version;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE {TABLE} SET version = nextval('{SEQUENCE}')
    WHERE client_id = ANY(ARRAY(SELECT id FROM new_rows));
  ELSE
    DELETE FROM {TABLE} WHERE client_id = ANY(ARRAY(SELECT id FROM old_rows));
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER clients_rowversion_ins AFTER INSERT ON {CLIENT_TABLE} "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION clients_rowversion_client()",
    f"CREATE TRIGGER clients_rowversion_upd AFTER UPDATE ON {CLIENT_TABLE} "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION clients_rowversion_client()",
    f"CREATE TRIGGER clients_rowversion_del AFTER DELETE ON {CLIENT_TABLE} "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION clients_rowversion_client()",
    # A client moved to another firm (rare): its row follows.
    f"""
CREATE OR REPLACE FUNCTION clients_rowversion_firm() RETURNS trigger AS $$
BEGIN
  UPDATE {TABLE} SET firm_id = NEW.firm_id WHERE client_id = NEW.id;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER clients_rowversion_firm AFTER UPDATE OF firm_id ON {CLIENT_TABLE} "
    "FOR EACH ROW WHEN (OLD.firm_id IS DISTINCT FROM NEW.firm_id) "
    "EXECUTE FUNCTION clients_rowversion_firm()",
    postgres_touch("clients_rowversion_touch", TABLE, "client_id", SEQUENCE),
]
for _table in CHILD_TABLES:
    POSTGRES_SQL += postgres_statement_triggers(
        f"{_table}_touch", _table, "clients_rowversion_touch"
    )
POSTGRES_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_touch_{op} ON {t}"
        for t in CHILD_TABLES
        for op in ("ins", "upd", "del")
    ),
    *(
        f"DROP TRIGGER IF EXISTS clients_rowversion_{op} ON {CLIENT_TABLE}"
        for op in ("ins", "upd", "del", "firm")
    ),
    "DROP FUNCTION IF EXISTS clients_rowversion_firm()",
    "DROP FUNCTION IF EXISTS clients_rowversion_touch()",
    "DROP FUNCTION IF EXISTS clients_rowversion_client()",
    f"DROP TABLE IF EXISTS {TABLE}",
    f"DROP SEQUENCE IF EXISTS {SEQUENCE}",
]

# -- SQLite (row triggers only) --------------------------------------------------------

SQLITE_SQL = [
    f"CREATE TABLE {TABLE} (client_id integer PRIMARY KEY, firm_id integer NOT NULL, "
    "version integer NOT NULL)",
    f"CREATE TRIGGER clients_rowversion_ins AFTER INSERT ON {CLIENT_TABLE} BEGIN "
    f"INSERT OR REPLACE INTO {TABLE} (client_id, firm_id, version) "
    "VALUES (new.id, new.firm_id, random()); END",
    f"CREATE TRIGGER clients_rowversion_upd AFTER UPDATE ON {CLIENT_TABLE} BEGIN "
    f"UPDATE {TABLE} SET firm_id = new.firm_id, version = random() "
    "WHERE client_id = new.id; END",
    f"CREATE TRIGGER clients_rowversion_del AFTER DELETE ON {CLIENT_TABLE} BEGIN "
    f"DELETE FROM {TABLE} WHERE client_id = old.id; END",
]
_TOUCH = f"UPDATE {TABLE} SET version = random() WHERE client_id"
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
    *(f"DROP TRIGGER IF EXISTS clients_rowversion_{op}" for op in ("ins", "upd", "del")),
    f"DROP TABLE IF EXISTS {TABLE}",
]

TRIGGERS = (
    *(f"clients_rowversion_{op}" for op in ("ins", "upd", "del")),
    *(f"{t}_touch_{op}" for t in CHILD_TABLES for op in ("ins", "upd", "del")),
)

KEPT = Kept(
    create={"postgresql": POSTGRES_SQL, "sqlite": SQLITE_SQL},
    drop={"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP},
    # A version for every client without one.
    backfill={
        vendor: f"INSERT INTO {TABLE} (client_id, firm_id, version) "
        f"SELECT id, firm_id, {new} FROM {CLIENT_TABLE} c "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} v WHERE v.client_id = c.id)"
        for vendor, new in NEW_VERSION.items()
    },
    triggers=TRIGGERS,
)
# The migration's steps; `backfill()` after a load without triggers (bench/generate.py).
create, drop, backfill = KEPT.install, KEPT.remove, KEPT.fill

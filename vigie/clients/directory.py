"""Each firm's directory version: new whenever the portfolio's lookups would change.

The portfolio labels its menus and rows with the firm's collaborators (who is a member,
their names and emails) and the catalogue of solutions (`Lookups` in
vigie.clients.portfolio.query). Reading them costs a statement with two sorts and ~40
objects on every page; they change seldom. A process keeps them, and checks on each page
a version read with the firm's client count (one primary-key statement either way): the
table `clients_directoryversion` (firm, version), kept by triggers in the same transaction
as the change, whatever writes it:

- a membership inserted, updated or deleted: its firm (old and new);
- a user's email or name updated: the firm of its membership;
- a solution of the catalogue inserted, updated or deleted: every firm;
- a firm inserted gets its row, deleted loses it.

As for the row versions (vigie.clients.rowversion), a version is never reused: a
PostgreSQL sequence, random 64-bit integers on SQLite. A firm without a row reads its
lookups on every page.
"""

from __future__ import annotations

from vigie.lib.triggers import Kept, postgres_statement_triggers, postgres_touch

TABLE = "clients_directoryversion"
SEQUENCE = "clients_directory_version_seq"
FIRM_TABLE = "firms_firm"
MEMBERSHIP_TABLE = "firms_membership"
USER_TABLE = "accounts_user"
SOLUTION_TABLE = "equipment_solution"
NEW_VERSION = {"postgresql": f"nextval('{SEQUENCE}')", "sqlite": "random()"}
# A user's columns that the lookups show.
USER_COLUMNS = ("email", "first_name", "last_name")

_USER_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in USER_COLUMNS)

POSTGRES_SQL = [
    f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}",
    f"CREATE TABLE {TABLE} (firm_id bigint PRIMARY KEY, version bigint NOT NULL)",
    f"""
CREATE OR REPLACE FUNCTION clients_directory_firm() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {TABLE} (firm_id, version) SELECT id, nextval('{SEQUENCE}') FROM new_rows
    ON CONFLICT (firm_id) DO UPDATE SET version = EXCLUDED.version;
  ELSE
    DELETE FROM {TABLE} WHERE firm_id = ANY(ARRAY(SELECT id FROM old_rows));
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER clients_directory_firm_ins AFTER INSERT ON {FIRM_TABLE} "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION clients_directory_firm()",
    f"CREATE TRIGGER clients_directory_firm_del AFTER DELETE ON {FIRM_TABLE} "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION clients_directory_firm()",
    postgres_touch("clients_directory_membership", TABLE, "firm_id", SEQUENCE),
    *postgres_statement_triggers(
        "clients_directory_membership", MEMBERSHIP_TABLE, "clients_directory_membership"
    ),
    # Row by row: users change one at a time, and a sign-in (last_login) changes nothing
    # the lookups show.
    f"""
CREATE OR REPLACE FUNCTION clients_directory_user() RETURNS trigger AS $$
BEGIN
  UPDATE {TABLE} SET version = nextval('{SEQUENCE}')
  WHERE firm_id IN (SELECT firm_id FROM {MEMBERSHIP_TABLE} WHERE user_id = NEW.id);
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER clients_directory_user AFTER UPDATE ON {USER_TABLE} "
    f"FOR EACH ROW WHEN ({_USER_CHANGED}) EXECUTE FUNCTION clients_directory_user()",
    f"""
CREATE OR REPLACE FUNCTION clients_directory_catalogue() RETURNS trigger AS $$
BEGIN
  UPDATE {TABLE} SET version = nextval('{SEQUENCE}');
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER clients_directory_catalogue AFTER INSERT OR UPDATE OR DELETE "
    f"ON {SOLUTION_TABLE} FOR EACH STATEMENT EXECUTE FUNCTION clients_directory_catalogue()",
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS clients_directory_firm_ins ON {FIRM_TABLE}",
    f"DROP TRIGGER IF EXISTS clients_directory_firm_del ON {FIRM_TABLE}",
    *(
        f"DROP TRIGGER IF EXISTS clients_directory_membership_{op} ON {MEMBERSHIP_TABLE}"
        for op in ("ins", "upd", "del")
    ),
    f"DROP TRIGGER IF EXISTS clients_directory_user ON {USER_TABLE}",
    f"DROP TRIGGER IF EXISTS clients_directory_catalogue ON {SOLUTION_TABLE}",
    "DROP FUNCTION IF EXISTS clients_directory_firm()",
    "DROP FUNCTION IF EXISTS clients_directory_membership()",
    "DROP FUNCTION IF EXISTS clients_directory_user()",
    "DROP FUNCTION IF EXISTS clients_directory_catalogue()",
    f"DROP TABLE IF EXISTS {TABLE}",
    f"DROP SEQUENCE IF EXISTS {SEQUENCE}",
]

_BUMP = f"UPDATE {TABLE} SET version = random()"
SQLITE_SQL = [
    f"CREATE TABLE {TABLE} (firm_id integer PRIMARY KEY, version integer NOT NULL)",
    f"CREATE TRIGGER clients_directory_firm_ins AFTER INSERT ON {FIRM_TABLE} BEGIN "
    f"INSERT OR REPLACE INTO {TABLE} (firm_id, version) VALUES (new.id, random()); END",
    f"CREATE TRIGGER clients_directory_firm_del AFTER DELETE ON {FIRM_TABLE} BEGIN "
    f"DELETE FROM {TABLE} WHERE firm_id = old.id; END",
    f"CREATE TRIGGER clients_directory_membership_ins AFTER INSERT ON {MEMBERSHIP_TABLE} "
    f"BEGIN {_BUMP} WHERE firm_id = new.firm_id; END",
    f"CREATE TRIGGER clients_directory_membership_upd AFTER UPDATE ON {MEMBERSHIP_TABLE} "
    f"BEGIN {_BUMP} WHERE firm_id IN (new.firm_id, old.firm_id); END",
    f"CREATE TRIGGER clients_directory_membership_del AFTER DELETE ON {MEMBERSHIP_TABLE} "
    f"BEGIN {_BUMP} WHERE firm_id = old.firm_id; END",
    f"CREATE TRIGGER clients_directory_user AFTER UPDATE ON {USER_TABLE} "
    f"WHEN {_USER_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {_BUMP} "
    f"WHERE firm_id IN (SELECT firm_id FROM {MEMBERSHIP_TABLE} WHERE user_id = new.id); END",
    *(
        f"CREATE TRIGGER clients_directory_catalogue_{op} AFTER {event} ON {SOLUTION_TABLE} "
        f"BEGIN {_BUMP}; END"
        for op, event in (("ins", "INSERT"), ("upd", "UPDATE"), ("del", "DELETE"))
    ),
]
TRIGGERS = (
    "clients_directory_firm_ins",
    "clients_directory_firm_del",
    *(f"clients_directory_membership_{op}" for op in ("ins", "upd", "del")),
    "clients_directory_user",
)
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
    *(f"DROP TRIGGER IF EXISTS clients_directory_catalogue_{op}" for op in ("ins", "upd", "del")),
    f"DROP TABLE IF EXISTS {TABLE}",
]

KEPT = Kept(
    create={"postgresql": POSTGRES_SQL, "sqlite": SQLITE_SQL},
    drop={"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP},
    # A version for every firm without one.
    backfill={
        vendor: f"INSERT INTO {TABLE} (firm_id, version) "
        f"SELECT id, {new} FROM {FIRM_TABLE} f "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} d WHERE d.firm_id = f.id)"
        for vendor, new in NEW_VERSION.items()
    },
    # The catalogue's trigger is one on PostgreSQL, one per event on SQLite.
    triggers=TRIGGERS,
)
# The migration's steps; `backfill()` after a load without triggers (bench/generate.py).
create, drop, backfill = KEPT.install, KEPT.remove, KEPT.fill

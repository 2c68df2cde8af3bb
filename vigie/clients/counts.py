"""Each firm's number of active clients, kept by triggers on clients_client.

The portfolio shows « 1-10 sur N » on every page; counting N over a firm of 100,000
clients reads 100,000 index entries (~20 ms on PostgreSQL). The row of
`ClientCount` is kept exact by triggers in the same transaction as the change (an
insert, a delete, an archive or unarchive, a move to another firm), whatever writes it:
the ORM, an import, raw SQL. A bulk load that disables triggers (bench/generate.py)
calls `recount()` afterwards.
"""

from __future__ import annotations

from django.db import connection

TABLE = "clients_clientcount"

POSTGRES_SQL = [
    f"""
CREATE OR REPLACE FUNCTION clients_client_count() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.archived_at IS NULL THEN
    UPDATE {TABLE} SET active = active - 1 WHERE firm_id = OLD.firm_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.archived_at IS NULL THEN
    INSERT INTO {TABLE} (firm_id, active) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET active = {TABLE}.active + 1;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    "CREATE TRIGGER clients_client_count_insdel AFTER INSERT OR DELETE ON clients_client "
    "FOR EACH ROW EXECUTE FUNCTION clients_client_count()",
    "CREATE TRIGGER clients_client_count_upd AFTER UPDATE OF firm_id, archived_at "
    "ON clients_client FOR EACH ROW WHEN (OLD.firm_id IS DISTINCT FROM NEW.firm_id "
    "OR (OLD.archived_at IS NULL) IS DISTINCT FROM (NEW.archived_at IS NULL)) "
    "EXECUTE FUNCTION clients_client_count()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS clients_client_count_insdel ON clients_client",
    "DROP TRIGGER IF EXISTS clients_client_count_upd ON clients_client",
    "DROP FUNCTION IF EXISTS clients_client_count()",
]

_SQLITE_DEC = f"UPDATE {TABLE} SET active = active - 1 WHERE firm_id = old.firm_id;"
_SQLITE_INC = (
    f"INSERT INTO {TABLE} (firm_id, active) SELECT new.firm_id, 1 WHERE new.archived_at IS NULL "
    "ON CONFLICT (firm_id) DO UPDATE SET active = active + 1;"
)
SQLITE_SQL = [
    f"CREATE TRIGGER clients_client_count_ins AFTER INSERT ON clients_client "
    f"BEGIN {_SQLITE_INC} END",
    f"CREATE TRIGGER clients_client_count_del AFTER DELETE ON clients_client "
    f"WHEN old.archived_at IS NULL BEGIN {_SQLITE_DEC} END",
    "CREATE TRIGGER clients_client_count_upd AFTER UPDATE OF firm_id, archived_at "
    "ON clients_client WHEN old.firm_id IS NOT new.firm_id "
    "OR (old.archived_at IS NULL) IS NOT (new.archived_at IS NULL) "
    f"BEGIN UPDATE {TABLE} SET active = active - 1 "
    f"WHERE firm_id = old.firm_id AND old.archived_at IS NULL; {_SQLITE_INC} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS clients_client_count_ins",
    "DROP TRIGGER IF EXISTS clients_client_count_del",
    "DROP TRIGGER IF EXISTS clients_client_count_upd",
]

RECOUNT_SQL = [
    f"DELETE FROM {TABLE}",
    f"INSERT INTO {TABLE} (firm_id, active) SELECT f.id, "
    "(SELECT COUNT(*) FROM clients_client c WHERE c.firm_id = f.id AND c.archived_at IS NULL) "
    "FROM firms_firm f",
]


def recount(using=None) -> None:
    """Rebuild every firm's count from the rows (after a load without triggers)."""
    from django.db import connections, transaction

    conn = connections[using] if using else connection
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        for sql in RECOUNT_SQL:
            cursor.execute(sql)


def active_clients(firm_id: int) -> int:
    """The firm's number of active clients (one primary-key read)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT active FROM {TABLE} WHERE firm_id = %s", [firm_id])
        row = cursor.fetchone()
    return row[0] if row else 0

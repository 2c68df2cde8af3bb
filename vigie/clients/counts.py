"""Each firm's number of active clients, kept by triggers on clients_client.

The portfolio shows « 1-10 sur N » on every page; counting N over a firm of 100,000
clients reads 100,000 index entries (~20 ms on PostgreSQL). The row of
`ClientCount` is kept exact by triggers in the same transaction as the change (an
insert, a delete, an archive or unarchive, a move to another firm), whatever writes it:
the ORM, an import, raw SQL. A bulk load that disables triggers (bench/generate.py)
calls `recount()` afterwards. The triggers are declared below with django-pgtrigger, in
`Client`'s `Meta.triggers`; their migration holds the SQL installed.
"""

from __future__ import annotations

import pgtrigger
from django.db import connection, connections, transaction

from vigie.lib.triggers import after_row, after_statement

TABLE = "clients_clientcount"

RECOUNT_SQL = [
    f"DELETE FROM {TABLE}",
    f"INSERT INTO {TABLE} (firm_id, active) SELECT f.id, "
    "(SELECT COUNT(*) FROM clients_client c WHERE c.firm_id = f.id AND c.archived_at IS NULL) "
    "FROM firms_firm f",
]


def client_triggers() -> list[pgtrigger.Trigger]:
    """On clients_client: the count of each firm a statement inserted or deleted active
    clients of (once per statement and firm), and of both firms of a client archived,
    unarchived or moved (once per row: rare, and an update's column list keeps it off
    every other update)."""
    per_firm = "SELECT firm_id, COUNT(*) AS n FROM {} WHERE archived_at IS NULL GROUP BY firm_id"
    return [
        after_statement(
            "count_ins",
            pgtrigger.Insert,
            f"INSERT INTO {TABLE} AS t (firm_id, active) {per_firm.format('new_rows')} "
            "ON CONFLICT (firm_id) DO UPDATE SET active = t.active + EXCLUDED.active",
            new=True,
        ),
        after_statement(
            "count_del",
            pgtrigger.Delete,
            f"UPDATE {TABLE} t SET active = t.active - d.n FROM ({per_firm.format('old_rows')}) d "
            "WHERE t.firm_id = d.firm_id",
            old=True,
        ),
        after_row(
            "count_upd",
            pgtrigger.UpdateOf("firm_id", "archived_at"),
            f"""
  IF OLD.archived_at IS NULL THEN
    UPDATE {TABLE} SET active = active - 1 WHERE firm_id = OLD.firm_id;
  END IF;
  IF NEW.archived_at IS NULL THEN
    INSERT INTO {TABLE} (firm_id, active) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET active = {TABLE}.active + 1;
  END IF""",
            condition="OLD.firm_id IS DISTINCT FROM NEW.firm_id"
            " OR (OLD.archived_at IS NULL) IS DISTINCT FROM (NEW.archived_at IS NULL)",
        ),
    ]


def recount(using=None) -> None:
    """Rebuild every firm's count from the rows (after a load without triggers)."""
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

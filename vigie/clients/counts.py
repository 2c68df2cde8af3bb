"""Each firm's number of active clients, kept by triggers on clients_client.

The portfolio shows « 1-10 sur N » on every page; counting N over a firm of 100,000
clients reads 100,000 index entries (~20 ms on PostgreSQL). The row of
`ClientCount` is kept exact by triggers in the same transaction as the change (an
insert, a delete, an archive or unarchive, a move to another firm), whatever writes it:
the ORM, an import, raw SQL. A bulk load that disables triggers (bench/generate.py)
calls `recount()` afterwards. The triggers' SQL is frozen in migration clients.0005.
"""

from __future__ import annotations

from django.db import connection, connections, transaction

TABLE = "clients_clientcount"

RECOUNT_SQL = [
    f"DELETE FROM {TABLE}",
    f"INSERT INTO {TABLE} (firm_id, active) SELECT f.id, "
    "(SELECT COUNT(*) FROM clients_client c WHERE c.firm_id = f.id AND c.archived_at IS NULL) "
    "FROM firms_firm f",
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

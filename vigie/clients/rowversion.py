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

A version is never reused, even after a rollback: it comes from a sequence (sequences
are not transactional). HTML rendered at a version that was rolled back can never be
served for another state. A client
without a row (written while the triggers were off: bench/generate.py, which calls
`backfill()` afterwards) is rendered on every page, never kept.

The collaborators' names and the catalogue of solutions are not versioned here: the page
reads them on every request, and the cache's key carries them.

Touching a client locks its version row until the transaction ends, as the counts of
vigie.clients.counts lock the firm's row. The triggers run once per statement
(transition tables), the touched clients read by primary key. Their SQL is frozen in
migration clients.0007; the table is the model `RowVersion`.
"""

from __future__ import annotations

from django.db import connection, connections

TABLE = "clients_rowversion"
# Tables whose rows show in their client's portfolio row; each has a client_id column.
CHILD_TABLES = (
    "clients_contact",
    "clients_clientassignment",
    "equipment_equipment",
    "invitations_invitation",
)
TRIGGERS = (
    *(f"clients_rowversion_{op}" for op in ("ins", "upd", "del")),
    *(f"{t}_touch_{op}" for t in CHILD_TABLES for op in ("ins", "upd", "del")),
)
BACKFILL_SQL = (
    f"INSERT INTO {TABLE} (client_id, firm_id, version) "
    "SELECT id, firm_id, nextval('clients_row_version_seq') FROM clients_client c "
    f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} v WHERE v.client_id = c.id)"
)


def backfill(using=None) -> None:
    """A version for every client without one (after a load without triggers)."""
    with (connections[using] if using else connection).cursor() as cursor:
        cursor.execute(BACKFILL_SQL)

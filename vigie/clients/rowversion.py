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
(transition tables), the touched clients read by primary key. They are declared below
with django-pgtrigger, in the `Meta.triggers` of `Client` and of each table a row shows
(tests/test_read_model.py finds those tables); their migrations hold the SQL installed.
"""

from __future__ import annotations

import pgtrigger
from django.db import connection, connections

from vigie.lib.triggers import after_row, after_statement

TABLE = "clients_rowversion"
_NEXT = "nextval('clients_row_version_seq')"
BACKFILL_SQL = (
    f"INSERT INTO {TABLE} (client_id, firm_id, version) "
    f"SELECT id, firm_id, {_NEXT} FROM clients_client c "
    f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} v WHERE v.client_id = c.id)"
)


def backfill(using=None) -> None:
    """A version for every client without one (after a load without triggers)."""
    with (connections[using] if using else connection).cursor() as cursor:
        cursor.execute(BACKFILL_SQL)


def client_triggers() -> list[pgtrigger.Trigger]:
    """On clients_client: a client's own row of versions."""
    return [
        after_statement(
            "rowversion_ins",
            pgtrigger.Insert,
            f"INSERT INTO {TABLE} (client_id, firm_id, version) "
            f"SELECT id, firm_id, {_NEXT} FROM new_rows ON CONFLICT (client_id) "
            "DO UPDATE SET firm_id = EXCLUDED.firm_id, version = EXCLUDED.version",
            new=True,
        ),
        after_statement(
            "rowversion_upd",
            pgtrigger.Update,
            f"UPDATE {TABLE} SET version = {_NEXT} "
            "WHERE client_id = ANY(ARRAY(SELECT id FROM new_rows))",
            new=True,
        ),
        after_statement(
            "rowversion_del",
            pgtrigger.Delete,
            f"DELETE FROM {TABLE} WHERE client_id = ANY(ARRAY(SELECT id FROM old_rows))",
            old=True,
        ),
        # A client moved to another firm (rare; the column list keeps it off other updates).
        after_row(
            "rowversion_firm",
            pgtrigger.UpdateOf("firm_id"),
            f"UPDATE {TABLE} SET firm_id = NEW.firm_id WHERE client_id = NEW.id",
            condition="OLD.firm_id IS DISTINCT FROM NEW.firm_id",
        ),
    ]


def touch_triggers() -> list[pgtrigger.Trigger]:
    """On a table whose rows show in their client's row (it has a client_id column)."""
    touch = f"UPDATE {TABLE} SET version = {_NEXT} WHERE client_id = ANY(ARRAY({{}}))"
    return [
        after_statement(
            "rowversion_touch_ins",
            pgtrigger.Insert,
            touch.format("SELECT DISTINCT client_id FROM new_rows"),
            new=True,
        ),
        after_statement(
            "rowversion_touch_upd",
            pgtrigger.Update,
            touch.format("SELECT client_id FROM new_rows UNION SELECT client_id FROM old_rows"),
            old=True,
            new=True,
        ),
        after_statement(
            "rowversion_touch_del",
            pgtrigger.Delete,
            touch.format("SELECT DISTINCT client_id FROM old_rows"),
            old=True,
        ),
    ]

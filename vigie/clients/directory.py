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

As for the row versions (vigie.clients.rowversion), a version is never reused: it comes
from a sequence. A firm without a row reads its lookups on every page. The triggers' SQL
is frozen in migration clients.0008; the table is the model `DirectoryVersion`.
"""

from __future__ import annotations

from django.db import connection, connections

TABLE = "clients_directoryversion"
TRIGGERS = (
    "clients_directory_firm_ins",
    "clients_directory_firm_del",
    *(f"clients_directory_membership_{op}" for op in ("ins", "upd", "del")),
    "clients_directory_user",
)
BACKFILL_SQL = (
    f"INSERT INTO {TABLE} (firm_id, version) "
    "SELECT id, nextval('clients_directory_version_seq') FROM firms_firm f "
    f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} d WHERE d.firm_id = f.id)"
)


def backfill(using=None) -> None:
    """A version for every firm without one (after a load without triggers)."""
    with (connections[using] if using else connection).cursor() as cursor:
        cursor.execute(BACKFILL_SQL)

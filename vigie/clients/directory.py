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
from a sequence. A firm without a row reads its lookups on every page. The triggers are
declared below with django-pgtrigger: vigie.clients.models puts them on `Firm`,
`Membership` and `User` (lower layers, which know nothing of clients), `Solution` declares
its own; their migrations hold the SQL installed. The table is the model
`DirectoryVersion`.
"""

from __future__ import annotations

import pgtrigger
from django.db import connection, connections

from vigie.lib.triggers import after_row, after_statement

TABLE = "clients_directoryversion"
_NEXT = "nextval('clients_directory_version_seq')"
BACKFILL_SQL = (
    f"INSERT INTO {TABLE} (firm_id, version) "
    f"SELECT id, {_NEXT} FROM firms_firm f "
    f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} d WHERE d.firm_id = f.id)"
)
# A new version for the firms of an array.
_RENEW = f"UPDATE {TABLE} SET version = {_NEXT} WHERE firm_id = ANY(ARRAY({{}}))"


def backfill(using=None) -> None:
    """A version for every firm without one (after a load without triggers)."""
    with (connections[using] if using else connection).cursor() as cursor:
        cursor.execute(BACKFILL_SQL)


def firm_triggers() -> list[pgtrigger.Trigger]:
    """On firms_firm: a firm's row of versions."""
    return [
        after_statement(
            "directory_ins",
            pgtrigger.Insert,
            f"INSERT INTO {TABLE} (firm_id, version) SELECT id, {_NEXT} FROM new_rows "
            "ON CONFLICT (firm_id) DO UPDATE SET version = EXCLUDED.version",
            new=True,
        ),
        after_statement(
            "directory_del",
            pgtrigger.Delete,
            f"DELETE FROM {TABLE} WHERE firm_id = ANY(ARRAY(SELECT id FROM old_rows))",
            old=True,
        ),
    ]


def membership_triggers() -> list[pgtrigger.Trigger]:
    """On firms_membership: the firms whose collaborators changed."""
    return [
        after_statement(
            "directory_ins",
            pgtrigger.Insert,
            _RENEW.format("SELECT DISTINCT firm_id FROM new_rows"),
            new=True,
        ),
        after_statement(
            "directory_upd",
            pgtrigger.Update,
            _RENEW.format("SELECT firm_id FROM new_rows UNION SELECT firm_id FROM old_rows"),
            old=True,
            new=True,
        ),
        after_statement(
            "directory_del",
            pgtrigger.Delete,
            _RENEW.format("SELECT DISTINCT firm_id FROM old_rows"),
            old=True,
        ),
    ]


def user_triggers() -> list[pgtrigger.Trigger]:
    """On accounts_user: the firm of a collaborator whose email or name changed."""
    return [
        after_row(
            "directory_upd",
            pgtrigger.Update,
            f"UPDATE {TABLE} SET version = {_NEXT} "
            "WHERE firm_id IN (SELECT firm_id FROM firms_membership WHERE user_id = NEW.id)",
            condition="OLD.email IS DISTINCT FROM NEW.email"
            " OR OLD.first_name IS DISTINCT FROM NEW.first_name"
            " OR OLD.last_name IS DISTINCT FROM NEW.last_name",
        )
    ]


def catalogue_triggers() -> list[pgtrigger.Trigger]:
    """On equipment_solution: every firm (the catalogue is shared)."""
    return [
        pgtrigger.Trigger(
            name="directory_catalogue",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
            func=f"UPDATE {TABLE} SET version = {_NEXT}; RETURN NULL;",
        )
    ]

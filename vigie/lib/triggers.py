"""The triggers a database has (the read model's tables are kept by triggers that their
migrations install as frozen SQL: vigie.clients.models, `RowVersion` and its siblings)."""

from __future__ import annotations


def present(connection) -> set[str]:
    """The names of the user triggers of the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {name for (name,) in cursor.fetchall()}

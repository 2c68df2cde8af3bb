"""Indexes of the portfolio page (PERFORMANCE.md): sort keys per firm, and search.

Vendor-specific and invisible to the model state (the autodetector never sees them):
- both: partial B-tree indexes matching the sorts and filters of active clients;
- PostgreSQL: pg_trgm GIN indexes on the folded search keys (substring LIKE);
- SQLite: FTS5 trigram tables over the same keys, kept in sync by triggers.
"""

from django.db import migrations

ACTIVE = "WHERE archived_at IS NULL"

BTREE = [
    ("pf_client_name", "clients_client", "firm_id, sort_name, id", ACTIVE),
    ("pf_client_code", "clients_client", "firm_id, code, id", ACTIVE),
    ("pf_client_mandate", "clients_client", "firm_id, mandate_status, id", ACTIVE),
    ("pf_client_pa", "clients_client", "firm_id, pa_status, id", ACTIVE),
    ("pf_client_sensi", "clients_client", "firm_id, sensitised, id", ACTIVE),
    ("pf_client_shine", "clients_client", "firm_id, shine_status, id", ACTIVE),
    ("pf_assignment_user", "clients_clientassignment", "firm_id, user_id, client_id", ""),
]

SQLITE_FTS = [
    # (fts table, content table)
    ("clients_client_fts", "clients_client"),
    ("clients_contact_fts", "clients_contact"),
]


def _sqlite_fts_sql(fts: str, table: str) -> list[str]:
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', "
        f"content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    for name, table, columns, where in BTREE:
        schema_editor.execute(f"CREATE INDEX {name} ON {table} ({columns}) {where}")
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table in ("clients_client", "clients_contact"):
            schema_editor.execute(
                f"CREATE INDEX pf_{table.split('_')[1]}_trgm ON {table} "
                "USING gin (search_text gin_trgm_ops)"
            )
    else:
        for fts, table in SQLITE_FTS:
            for sql in _sqlite_fts_sql(fts, table):
                schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    for name, *_ in BTREE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS pf_client_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS pf_contact_trgm")
    else:
        for fts, _table in SQLITE_FTS:
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

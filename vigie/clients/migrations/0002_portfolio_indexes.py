"""Indexes of the portfolio page (PERFORMANCE.md): sort keys per firm, and search.

Invisible to the model state (the autodetector never sees them):
- partial B-tree indexes matching the sorts and filters of active clients;
- pg_trgm GIN indexes on the folded search keys (substring LIKE).
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


def forwards(apps, schema_editor):
    for name, table, columns, where in BTREE:
        schema_editor.execute(f"CREATE INDEX {name} ON {table} ({columns}) {where}")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in ("clients_client", "clients_contact"):
        schema_editor.execute(
            f"CREATE INDEX pf_{table.split('_')[1]}_trgm ON {table} "
            "USING gin (search_text gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    for name, *_ in BTREE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP INDEX IF EXISTS pf_client_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS pf_contact_trgm")


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

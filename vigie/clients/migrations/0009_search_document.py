from django.db import migrations

from vigie.clients import searchdoc

# The indexes of migration clients.0003, which the search documents replace.
FIRM_INDEXES = (("pf_client_firm_trgm", "clients_client"), ("pf_contact_firm_trgm", "clients_contact"))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    searchdoc.create(schema_editor)
    schema_editor.execute(f"ANALYZE {searchdoc.TABLE}")
    for name, _table in FIRM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in FIRM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            "USING gin ((firm_id::text || ':' || search_text) gin_trgm_ops)"
        )
    searchdoc.drop(schema_editor)


class Migration(migrations.Migration):
    """Each client's search document (vigie.clients.searchdoc, PostgreSQL): a table, its
    trigram index and its triggers, outside the models; the clients' and contacts'
    firm-keyed trigram indexes of clients.0003 go."""

    dependencies = [("clients", "0008_directory_version")]

    operations = [migrations.RunPython(forwards, backwards)]

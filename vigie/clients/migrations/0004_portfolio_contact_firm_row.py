"""SQLite: find a contact of the firm by id without reading its row.

A search's contact side takes the FTS5 matches of every firm (rowids), then keeps this
firm's: with `(firm_id, id, client_id)` each check is an index seek that also yields the
client (`SEARCH … USING COVERING INDEX`), instead of a read of the whole contact row
(surname « martin » over 300,000 clients: 76 → 29 ms). PostgreSQL finds the firm's
matches in its trigram index (0003) and needs nothing more.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE INDEX pf_contact_firm_row ON clients_contact (firm_id, id, client_id)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS pf_contact_firm_row")


class Migration(migrations.Migration):
    dependencies = [("clients", "0003_portfolio_firm_search")]

    operations = [migrations.RunPython(forwards, backwards)]

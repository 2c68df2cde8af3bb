"""Search indexes scoped to the firm.

The GIN indexes of 0002 covered `search_text` alone: a firm's search had to choose
between the trigram index (every firm's matches, then a filter) and the `firm_id`
B-tree (every row of the firm, then `LIKE`). The planner costs `LIKE` as nearly free
and took the B-tree: a common surname read all 200,000 contacts of the firm.

These indexes hold `<firm_id>:<search_text>`; a pattern `'<firm_id>:%word%'` finds only
the firm's matches, and no other index can answer it, so the plan is the same for
every word. `PortfolioQuery` wrote that exact expression (clients.0009 replaced them).
"""

from django.db import migrations

EXPRESSION = "(firm_id::text || ':' || search_text)"
TABLES = (("pf_client_firm_trgm", "clients_client"), ("pf_contact_firm_trgm", "clients_contact"))


def forwards(apps, schema_editor):
    for name, table in TABLES:
        schema_editor.execute(
            f"CREATE INDEX {name} ON {table} USING gin ({EXPRESSION} gin_trgm_ops)"
        )
    schema_editor.execute("DROP INDEX IF EXISTS pf_client_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS pf_contact_trgm")
    for _name, table in TABLES:
        # Statistics on the new expressions, so that the first plans are right.
        schema_editor.execute(f"ANALYZE {table}")


def backwards(apps, schema_editor):
    for name, table in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        short = table.split("_")[1]
        schema_editor.execute(
            f"CREATE INDEX pf_{short}_trgm ON {table} USING gin (search_text gin_trgm_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_portfolio_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]

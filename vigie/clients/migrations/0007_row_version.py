from django.db import migrations

from vigie.clients import rowversion


def forwards(apps, schema_editor):
    rowversion.create(schema_editor)


def backwards(apps, schema_editor):
    rowversion.drop(schema_editor)


class Migration(migrations.Migration):
    """The clients' row versions (vigie.clients.rowversion): a table and its triggers,
    outside the models (no model writes it; Django's schema editor leaves it alone)."""

    dependencies = [
        ("clients", "0006_event_firm_kind_at"),
        ("equipment", "0002_catalogue"),
        ("invitations", "0003_reminders"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

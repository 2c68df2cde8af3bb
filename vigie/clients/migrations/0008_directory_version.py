from django.db import migrations

from vigie.clients import directory


def forwards(apps, schema_editor):
    directory.create(schema_editor)


def backwards(apps, schema_editor):
    directory.drop(schema_editor)


class Migration(migrations.Migration):
    """The firms' directory versions (vigie.clients.directory): a table and its triggers,
    outside the models."""

    dependencies = [
        ("clients", "0007_row_version"),
        ("accounts", "0001_initial"),
        ("firms", "0002_invitation_lifecycle"),
        ("equipment", "0002_catalogue"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

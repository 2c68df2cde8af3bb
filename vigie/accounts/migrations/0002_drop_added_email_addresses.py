"""Addresses collaborators added to their own account through allauth's e-mail page (now
closed, vigie/accounts/urls.py): a password reset for such an address mailed a link into
the account that added it. Each account keeps its sign-in address only."""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Lower


def forwards(apps, schema_editor):
    EmailAddress = apps.get_model("account", "EmailAddress")
    EmailAddress.objects.alias(address=Lower("email"), own=Lower("user__email")).exclude(
        address=F("own")
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

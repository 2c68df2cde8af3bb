"""The client's (head office's) address: street line, postal code (5 digits) and town."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0013_fold_ligatures"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="address",
            field=models.CharField(blank=True, max_length=200, verbose_name="adresse"),
        ),
        migrations.AddField(
            model_name="client",
            name="postal_code",
            field=models.CharField(blank=True, max_length=5, verbose_name="code postal"),
        ),
        migrations.AddField(
            model_name="client",
            name="city",
            field=models.CharField(blank=True, max_length=100, verbose_name="ville"),
        ),
        migrations.AddConstraint(
            model_name="client",
            constraint=models.CheckConstraint(
                condition=models.Q(("postal_code", ""), ("postal_code__regex", "^[0-9]{5}$"), _connector="OR"),
                name="client_postal_code_format",
            ),
        ),
    ]

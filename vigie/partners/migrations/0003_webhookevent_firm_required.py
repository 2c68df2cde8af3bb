import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0002: PostgreSQL will not alter a table with pending trigger events
    # (the rows 0002 filled) in the same transaction.
    dependencies = [("partners", "0002_webhookevent_firm")]

    operations = [
        migrations.AlterField(
            model_name="webhookevent",
            name="firm",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="firms.firm"
            ),
        ),
    ]

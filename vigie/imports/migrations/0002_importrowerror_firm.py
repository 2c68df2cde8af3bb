"""`imports_importrowerror` carries the firm like every other tenant table (docs/DEPLOY.md,
distribution by firm): added, filled from its job, then required."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    schema_editor.execute(
        "UPDATE imports_importrowerror SET firm_id = "
        "(SELECT p.firm_id FROM imports_importjob p WHERE p.id = imports_importrowerror.job_id)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("firms", "0002_invitation_lifecycle"),
        ("imports", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrowerror",
            name="firm",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="firms.firm",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="importrowerror",
            name="firm",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="firms.firm"
            ),
        ),
    ]

"""An import keeps the header and first rows read at upload (the mapping page's preview)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0002_importrowerror_firm'),
    ]

    operations = [
        migrations.AddField(
            model_name='importjob',
            name='preview',
            field=models.JSONField(blank=True, default=list),
        ),
    ]

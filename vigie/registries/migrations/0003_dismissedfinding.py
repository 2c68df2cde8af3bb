import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0013_fold_ligatures'),
        ('firms', '0003_directory_triggers'),
        ('registries', '0002_worklist'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DismissedFinding',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('register', models.CharField(choices=[('sirene', 'Registre des entreprises'), ('annuaire', 'Annuaire de facturation électronique')], max_length=10)),
                ('code', models.CharField(max_length=30)),
                ('value', models.CharField(blank=True, max_length=300)),
                ('dismissed_at', models.DateTimeField(auto_now_add=True)),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clients.client')),
                ('dismissed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('firm', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='firms.firm')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('client', 'register', 'code', 'value'), name='dismissedfinding_unique')],
            },
        ),
    ]

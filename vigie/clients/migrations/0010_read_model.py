"""The read model's tables as models: state only, the tables (and their triggers) are
those migrations 0007 to 0009 created, so existing databases keep theirs."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0009_search_document'),
        ('firms', '0002_invitation_lifecycle'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='DirectoryVersion',
            fields=[
                ('firm', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='firms.firm')),
                ('version', models.BigIntegerField()),
            ],
            options={
                'db_table': 'clients_directoryversion',
            },
        ),
        migrations.CreateModel(
            name='RowVersion',
            fields=[
                ('client', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='clients.client')),
                ('version', models.BigIntegerField()),
                ('firm', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='firms.firm')),
            ],
            options={
                'db_table': 'clients_rowversion',
            },
        ),
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('client', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='clients.client')),
                ('doc', models.TextField()),
                ('firm', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='firms.firm')),
            ],
            options={
                'db_table': 'clients_searchdoc',
            },
        ),
        ]),
    ]

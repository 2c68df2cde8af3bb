"""The read model's triggers on this app's tables, declared with django-pgtrigger
(vigie.clients.rowversion, directory, counts, searchdoc): the ones clients.0005 to
0009 created as frozen SQL go first, in the same transaction, so old and new
databases end with the same one set. Backwards, the old ones come back."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


# The triggers of migrations clients.0005 to 0009 on this app's tables (frozen SQL).
DROP_OLD = [
    'DROP TRIGGER IF EXISTS clients_directory_user ON accounts_user',
    'DROP FUNCTION IF EXISTS clients_directory_user()',
]

CREATE_OLD = [
    """
CREATE OR REPLACE FUNCTION clients_directory_user() RETURNS trigger AS $$
BEGIN
  UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq')
  WHERE firm_id IN (SELECT firm_id FROM firms_membership WHERE user_id = NEW.id);
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_directory_user AFTER UPDATE ON accounts_user FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name) EXECUTE FUNCTION clients_directory_user()',
]


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_drop_added_email_addresses'),
        ('clients', '0010_read_model'),
    ]

    operations = [
        migrations.RunSQL(DROP_OLD, CREATE_OLD),
        pgtrigger.migrations.AddTrigger(
            model_name='user',
            trigger=pgtrigger.compiler.Trigger(name='directory_upd', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name)', func="UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq') WHERE firm_id IN (SELECT firm_id FROM firms_membership WHERE user_id = NEW.id); RETURN NULL;", hash='cd708c9ef3cf48e461e206813e3f311cba4d57e1', operation='UPDATE', pgid='pgtrigger_directory_upd_da271', table='accounts_user', when='AFTER')),
        ),
    ]

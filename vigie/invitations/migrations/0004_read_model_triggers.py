"""The read model's triggers on this app's tables, declared with django-pgtrigger
(vigie.clients.rowversion, directory, counts, searchdoc): the ones clients.0005 to
0009 created as frozen SQL go first, in the same transaction, so old and new
databases end with the same one set. Backwards, the old ones come back."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


# The triggers of migrations clients.0005 to 0009 on this app's tables (frozen SQL).
DROP_OLD = [
    'DROP TRIGGER IF EXISTS invitations_invitation_touch_ins ON invitations_invitation',
    'DROP TRIGGER IF EXISTS invitations_invitation_touch_upd ON invitations_invitation',
    'DROP TRIGGER IF EXISTS invitations_invitation_touch_del ON invitations_invitation',
]

CREATE_OLD = [
    'CREATE TRIGGER invitations_invitation_touch_ins AFTER INSERT ON invitations_invitation REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER invitations_invitation_touch_upd AFTER UPDATE ON invitations_invitation REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER invitations_invitation_touch_del AFTER DELETE ON invitations_invitation REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
]


class Migration(migrations.Migration):

    dependencies = [
        ('invitations', '0003_reminders'),
        ('clients', '0010_read_model'),
    ]

    operations = [
        migrations.RunSQL(DROP_OLD, CREATE_OLD),
        pgtrigger.migrations.AddTrigger(
            model_name='invitation',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_ins', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT DISTINCT client_id FROM new_rows)); RETURN NULL;", hash='a7c09bd0d6c2d3e77cc51ed29ce9a88d3deb9353', level='STATEMENT', operation='INSERT', pgid='pgtrigger_rowversion_touch_ins_9beb0', referencing='REFERENCING NEW TABLE AS new_rows ', table='invitations_invitation', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invitation',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_upd', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT client_id FROM new_rows UNION SELECT client_id FROM old_rows)); RETURN NULL;", hash='bfd4c20acf75297332257f26cabb289566e2a1eb', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_rowversion_touch_upd_f8dcc', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='invitations_invitation', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invitation',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_del', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT DISTINCT client_id FROM old_rows)); RETURN NULL;", hash='c7f301e91e7db88e88fd88ab8b3ae707334c88d7', level='STATEMENT', operation='DELETE', pgid='pgtrigger_rowversion_touch_del_7deb6', referencing='REFERENCING OLD TABLE AS old_rows ', table='invitations_invitation', when='AFTER')),
        ),
    ]

from django.db import migrations


def forwards(apps, schema_editor):
    from vigie.equipment.catalogue import install

    install(apps.get_model("equipment", "Solution"))


class Migration(migrations.Migration):
    dependencies = [("equipment", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

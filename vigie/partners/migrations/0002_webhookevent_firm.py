import django.db.models.deletion
from django.db import migrations, models


def fill_firm(apps, schema_editor):
    WebhookEvent = apps.get_model("partners", "WebhookEvent")
    PartnerLink = apps.get_model("partners", "PartnerLink")
    for event in WebhookEvent.objects.filter(firm__isnull=True).iterator():
        external_id = (event.payload.get("data") or {}).get("external_id")
        link = PartnerLink.objects.filter(invitation__public_id=external_id).first()
        if link is None:
            event.delete()
        else:
            event.firm_id = link.firm_id
            event.save(update_fields=["firm"])


class Migration(migrations.Migration):
    dependencies = [
        ("firms", "0002_invitation_lifecycle"),
        ("partners", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookevent",
            name="firm",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="firms.firm",
            ),
        ),
        migrations.RunPython(fill_firm, migrations.RunPython.noop),
    ]

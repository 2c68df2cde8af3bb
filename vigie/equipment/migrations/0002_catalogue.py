"""The solutions catalogue as it stood when first installed (frozen: a migration never
imports application code; vigie.equipment.catalogue is today's, for tests and later
data migrations)."""

from django.db import migrations

A, V, C, K = "achat", "vente", "caisse", "collecte"

SOLUTIONS = [
    ("shine", "Shine", "cegid", {A, V, K}, True),
    ("cegid-quadra", "Cegid Quadra", "cegid", {A, K}, False),
    ("cegid-devis-factures", "Cegid Devis Factures", "cegid", {V}, False),
    ("cegid-business", "Cegid Business", "cegid", {A, V}, False),
    ("cegid-gestion", "Cegid Gestion Commerciale", "cegid", {A, V}, False),
    ("cegid-point-de-vente", "Cegid Point de vente", "cegid", {C}, False),
    ("non-concerne", "Non concerné", "autres", {A, V, C}, False),
    ("abby", "Abby", "autres", {A, V}, False),
    ("axonaut", "Axonaut", "autres", {A, V}, False),
    ("cegid-quadra-gestion-interne", "cegid quadra gestion interne", "autres", {A}, False),
    ("compleo-invoice-platform", "Compleo Invoice Platform", "autres", {A}, False),
    ("daxt", "Daxt", "autres", {A}, False),
    ("bim", "bim", "autres", {V}, False),
    ("ebp", "EBP Gestion Commerciale", "autres", {A, V}, False),
    ("evoliz", "Evoliz", "autres", {A, V}, False),
    ("freebe", "Freebe", "autres", {V}, False),
    ("henrri", "Henrri", "autres", {V}, False),
    ("microsoft-excel", "Microsoft Excel", "autres", {A, V}, False),
    ("pennylane", "Pennylane", "autres", {A, V, K}, False),
    ("quickbooks", "QuickBooks", "autres", {A, V}, False),
    ("sage", "Sage Gestion Commerciale", "autres", {A, V}, False),
    ("sellsy", "Sellsy", "autres", {A, V}, False),
    ("tiime", "Tiime", "autres", {A, V, K}, False),
    ("apisoft", "Apisoft", "autres", {C}, False),
    ("elo-touch", "Elo Touch Solutions", "autres", {C}, False),
    ("sumup", "SumUp", "autres", {C}, False),
    ("zettle", "Zettle", "autres", {C}, False),
    ("lightspeed", "Lightspeed", "autres", {C}, False),
]



def forwards(apps, schema_editor):
    Solution = apps.get_model("equipment", "Solution")
    for position, (slug, name, group, slots, partner) in enumerate(SOLUTIONS):
        Solution.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "group": group,
                "for_achat": A in slots,
                "for_vente": V in slots,
                "for_caisse": C in slots,
                "for_collecte": K in slots,
                "is_partner": partner,
                "position": position,
                "description": "Achat, Collecte, Vente" if slug == "shine" else "",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("equipment", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

"""Refold the search and sort keys of the rows written before the folding spelt out the
ligatures (« Œuf » is now searched and sorted as « oeuf »). Only the rows holding one
of these letters change; the search documents follow through their triggers.

The folding is copied here as it is today: a migration never imports application code
(tests/test_migrations.py)."""

import unicodedata

from django.db import migrations
from django.db.models import Q

LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ẞ": "ss"}
BATCH = 1000


def fold(value):
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spelt = "".join(LIGATURES.get(ch, ch) for ch in stripped)
    return " ".join(spelt.lower().split())


def _holding(fields):
    condition = Q()
    for field in fields:
        for letter in LIGATURES:
            condition |= Q(**{f"{field}__contains": letter})
    return condition


def _refold(model, fields, keys):
    """Recompute `keys` ({field: function of the row}) of the rows whose `fields` hold a
    ligature, a batch at a time, writing only the rows that change."""
    rows = model.objects.filter(_holding(fields)).order_by("pk")
    changed = []
    for row in rows.iterator(chunk_size=BATCH):
        values = {name: compute(row) for name, compute in keys.items()}
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
        if len(changed) >= BATCH:
            model.objects.bulk_update(changed, list(keys))
            changed = []
    if changed:
        model.objects.bulk_update(changed, list(keys))


def forwards(apps, schema_editor):
    _refold(
        apps.get_model("clients", "Client"),
        ["name", "code", "siret"],
        {
            "sort_name": lambda c: fold(c.name)[:200],
            "search_text": lambda c: fold(f"{c.name} {c.code} {c.siret}")[:260],
        },
    )
    _refold(
        apps.get_model("clients", "Contact"),
        ["first_name", "last_name", "email"],
        {"search_text": lambda k: fold(f"{k.first_name} {k.last_name} {k.email}")[:460]},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0012_client_count_per_statement"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]

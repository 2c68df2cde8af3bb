"""Every table of Vigie's own data carries the firm (docs/DEPLOY.md, distribution by
firm): a new model without `firm_id` fails here unless it is one of the few tables
that are not a firm's data."""

from __future__ import annotations

from django.apps import apps

# Tables that are not one firm's data, and why.
NOT_TENANT = {
    "firms.Firm": "the distribution key itself",
    "accounts.User": "sign-in accounts (a reference table, joined through the membership)",
    "equipment.Solution": "the catalogue shared by every firm (a reference table)",
    "registries.TokenBucket": "a public register's pace, shared by every firm (its limit is per IP)",
}


def test_every_tenant_table_carries_the_firm_id():
    missing = []
    for model in apps.get_models():
        if not model.__module__.startswith("vigie."):
            continue
        label = f"{model._meta.app_label}.{model.__name__}"
        columns = {f.column for f in model._meta.concrete_fields}
        if "firm_id" not in columns and label not in NOT_TENANT:
            missing.append(label)
    assert missing == []

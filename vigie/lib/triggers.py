"""Database triggers, declared with django-pgtrigger on the models they watch (the read
model's: vigie.clients.rowversion, directory, counts, searchdoc)."""

from __future__ import annotations

import pgtrigger


def after_statement(
    name: str, operation, body: str, *, old=False, new=False, declare=None
) -> pgtrigger.Trigger:
    """A trigger run once per statement, after it, reading the rows the statement wrote
    as `old_rows` and/or `new_rows` (transition tables); `body` is its PL/pgSQL, with
    the variables `declare` lists as (name, type)."""
    return pgtrigger.Trigger(
        name=name,
        level=pgtrigger.Statement,
        when=pgtrigger.After,
        operation=operation,
        referencing=pgtrigger.Referencing(
            old="old_rows" if old else None, new="new_rows" if new else None
        ),
        func=f"{body}; RETURN NULL;",
        declare=declare,
    )


def after_row(name: str, operation, body: str, *, condition: str = "") -> pgtrigger.Trigger:
    """A trigger run after each row the statement writes (`OLD`, `NEW`), when `condition`
    holds (SQL over OLD and NEW)."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.After,
        operation=operation,
        condition=pgtrigger.Condition(condition) if condition else None,
        func=f"{body}; RETURN NULL;",
    )


def present(connection) -> set[str]:
    """The names of the user triggers of the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {name for (name,) in cursor.fetchall()}


def declared(prefix: str = "") -> dict[str, str]:
    """The database names of the triggers declared on the models, whose declared name
    starts with `prefix`, each with its installation status: "INSTALLED" when the
    database holds it as declared, else "UNINSTALLED" or "OUTDATED"."""
    return {
        trigger.get_pgid(model): trigger.get_installation_status(model)[0]
        for model, trigger in pgtrigger.registered()
        if trigger.name.startswith(prefix)
    }

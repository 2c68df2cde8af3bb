"""Migrations never import application code: once deployed, a migration must do what it
did then, whatever the modules it would import have become since (their SQL is frozen
in the migration as text)."""

from __future__ import annotations

import ast
from pathlib import Path

import vigie

ROOT = Path(vigie.__file__).parent
# References Django's autodetector itself writes, which run no SQL: a custom manager
# (use_in_migrations), FileField upload_to callables and callable defaults (the
# time-ordered ids of vigie.lib.ids, computed in Python). Their owners may drop them.
ALLOWED = {
    ("accounts/migrations/0001_initial.py", "vigie.accounts.models"),
    ("reform/migrations/0001_initial.py", "vigie.reform.models"),
    *(
        (f"{app}/migrations/{name}_time_ordered_public_ids.py", "vigie.lib.ids")
        for app, name in (("clients", "0019"), ("invitations", "0007"), ("reform", "0005"))
    ),
}


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):  # imports inside functions too
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_migration_imports_application_code():
    found = set()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for name in imported(ast.parse(path.read_text(), str(path))):
            top = name.split(".")[:2]
            if top[0] == "vigie" and ".migrations" not in name and name != "vigie":
                if (relative, name) not in ALLOWED and len(top) > 1:
                    found.add((relative, name))
    assert found == set()


def test_it_sees_an_import_inside_a_function():
    tree = ast.parse("def forwards(apps, schema_editor):\n    from vigie.clients import counts\n")
    assert "vigie.clients.counts" in imported(tree)

"""The layers in .importlinter (checked by `lint-imports`) only bind the modules they name:
every module of Vigie must sit in one, or be one of the few that only wire Django up."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Django's wiring, imported by Django itself: they may import from any layer.
WIRING = {"__init__", "__main__", "apps", "admin", "settings", "urls", "wsgi"}


def _layers() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    raw = config["importlinter:contract:layers"]["layers"]
    return [
        m.strip()
        for line in raw.split("\n")
        for m in line.replace("|", ":").split(":")
        if m.strip()
    ]


def _modules() -> list[str]:
    found = []
    for path in (ROOT / "vigie").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts or parts[-1] in WIRING:
            continue
        found.append(".".join(parts))
    return sorted(found)


def test_every_module_is_in_a_layer():
    layers = _layers()
    outside = [
        m
        for m in _modules()
        if not any(m == layer or m.startswith(layer + ".") for layer in layers)
    ]
    assert outside == [], f"add these to a layer in .importlinter: {outside}"


def test_every_equipment_module_is_a_page_or_below_invitations():
    """The `features` contract names equipment's own modules one by one (its views are
    pages): a new one must be named there, or among the pages, to be bound."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    bound = config["importlinter:contract:features"]["source_modules"].split()
    pages = next(
        line
        for line in config["importlinter:contract:layers"]["layers"].split("\n")
        if "vigie.equipment.views" in line
    )
    bound += [m.strip() for m in pages.split(":")]
    unbound = [
        m
        for m in _modules()
        if m.startswith("vigie.equipment.")
        and not any(m == b or m.startswith(b + ".") for b in bound)
    ]
    assert unbound == [], f"name these in the features contract or the pages: {unbound}"

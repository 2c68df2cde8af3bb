"""The filter menus of the portfolio, rendered in Python like its cells (cells.py):
eleven `<select>`s are ~300 template lookups, a third of the page's rendering time.
Every label and value goes through `escape`."""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe

from vigie.clients.models import MandateStatus, PaStatus, ShineStatus
from vigie.clients.portfolio.query import Params

# (name, aria-label, [(value, label)…]); the first option (value "") shows every client.
YES_NO_MENUS = [
    (
        "achat",
        "Achat",
        [("", "Achat : tous"), ("oui", "Achat équipé"), ("non", "Achat non équipé")],
    ),
    (
        "vente",
        "Vente",
        [("", "Vente : tous"), ("oui", "Vente équipée"), ("non", "Vente non équipée")],
    ),
    (
        "caisse",
        "Caisse",
        [("", "Caisse : tous"), ("oui", "Caisse équipée"), ("non", "Caisse non équipée")],
    ),
]
STATUS_MENUS = [
    (
        "shine",
        "Statut Shine",
        [("", "Shine : tous"), ("aucun", "Sans Shine"), *ShineStatus.choices[1:]],
    ),
    (
        "mandat",
        "Mandat",
        [
            ("", "Mandat : tous"),
            ("aucun", "Sans mandat"),
            ("non_signe", "Mandat non signé"),
            *MandateStatus.choices[1:],
        ],
    ),
    (
        "pa",
        "Inscription PA",
        [("", "Inscription PA : tous"), ("non_inscrit", "Non inscrit"), *PaStatus.choices],
    ),
    (
        "sensi",
        "Sensi. réforme",
        [("", "Sensi. réforme : tous"), ("oui", "Oui ✅"), ("non", "Non ❌")],
    ),
    (
        "facturation",
        "Facturation électronique",
        [
            ("", "Facturation électronique : tous"),
            ("oui", "Équipé pour émettre"),
            ("non", "Non équipé pour émettre"),
        ],
    ),
]


def select(name: str, label: str, options, current) -> str:
    """A `<select>` with the current value selected."""
    html = [f'<select name="{name}" aria-label="{escape(label)}">']
    for value, text in options:
        selected = " selected" if value == current else ""
        html.append(f'<option value="{escape(value)}"{selected}>{escape(text)}</option>')
    html.append("</select>")
    return "".join(html)


def menus(params: Params, collaborators, solutions) -> SafeString:
    """Every filter menu of the form, in the order of the page."""
    people = [("", "Tous les collaborateurs")] + [
        (str(u.id), u.full_name or u.email) for u in collaborators
    ]
    catalogue = [("", "Toutes les solutions")] + [(s.slug, s.name) for s in solutions]
    parts = [select("collab", "Collaborateur", people, str(params.collab or ""))]
    parts += [
        select(name, label, options, getattr(params, name)) for name, label, options in YES_NO_MENUS
    ]
    parts.append(select("solution", "Solution", catalogue, params.solution))
    parts += [
        select(name, label, options, getattr(params, name)) for name, label, options in STATUS_MENUS
    ]
    return mark_safe("\n  ".join(parts))  # noqa: S308 - every value above is escaped

"""The filter menus of the portfolio: their options, for the template's `<select>`s."""

from __future__ import annotations

from typing import NamedTuple

from vigie.campaigns import funnel
from vigie.clients.models import MandateStatus, PaStatus, ShineStatus
from vigie.clients.portfolio.query import Params
from vigie.registries.rules import KINDS, STATUS_LABELS

# The two views of the list (its tabs), in the page's order.
VIEW_LABELS = [("collecte", "Collecte"), ("equipement", "Équipement")]

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
        [("", "Sensi. réforme : tous"), ("oui", "Oui"), ("non", "Non")],
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
    # The client's status in the public registers, and one kind of finding
    # (vigie.registries.rules; the reform dashboard's « Registres » card links here).
    ("registres", "Registres", [("", "Registres : tous"), *STATUS_LABELS.items()]),
    (
        "constat",
        "Constat des registres",
        [("", "Constat des registres : tous"), *((k.key, k.label) for k in KINDS)],
    ),
]


class Menu(NamedTuple):
    """A `<select>` of the filter form, its current value selected."""

    name: str
    label: str
    options: list[tuple[str, str]]
    current: str


def campaign_menus(params: Params, campaign) -> list[Menu]:
    """While the list shows a campaign's clients (its page's links), the campaign and the
    stage of its funnel, so that the other filters keep them (or « toutes » drops them)."""
    if campaign is None:
        return []
    stages = [(s.key, s.label) for s in funnel.measured(campaign.kind)]
    return [
        Menu(
            "campagne",
            "Campagne",
            [("", "Campagne : toutes"), (str(campaign.public_id), f"Campagne « {campaign.name} »")],
            params.campagne,
        ),
        Menu("etape", "Étape de la campagne", [("", "Étape : toutes"), *stages], params.etape),
    ]


def menus(params: Params, collaborators, solutions, campaign=None) -> list[Menu]:
    """Every filter menu of the form, in the order of the page."""
    people = [("", "Tous les collaborateurs")] + [
        (str(u.id), u.full_name or u.email) for u in collaborators
    ]
    catalogue = [("", "Toutes les solutions")] + [(s.slug, s.name) for s in solutions]
    return [
        Menu("collab", "Collaborateur", people, str(params.collab or "")),
        *(
            Menu(name, label, options, getattr(params, name))
            for name, label, options in YES_NO_MENUS
        ),
        Menu("solution", "Solution", catalogue, params.solution),
        *(
            Menu(name, label, options, getattr(params, name))
            for name, label, options in STATUS_MENUS
        ),
        *campaign_menus(params, campaign),
    ]


def described(params: Params, collaborators, solutions, campaign=None) -> list[str]:
    """The search and the filters of `params` in the words of the page's menus, each
    prefixed by its menu unless the option says it already (« Vente non équipée »,
    « Statut Shine : Invité »): what an export holds, on its page and in the list."""
    out = [f"Vue {dict(VIEW_LABELS)[params.view]}"]
    if params.q:
        out.append(f"Recherche « {params.q} »")
    if params.mine:
        out.append("Mes dossiers")
    for menu in menus(params, collaborators, solutions, campaign):
        if not menu.current:
            continue
        option = dict(menu.options).get(menu.current, menu.current)
        out.append(option if menu.label.lower() in option.lower() else f"{menu.label} : {option}")
    return out

from __future__ import annotations

from dataclasses import replace

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from vigie.accounts.models import User
from vigie.clients.models import MandateStatus, PaStatus, ShineStatus
from vigie.clients.portfolio import export
from vigie.clients.portfolio.query import (
    PER_PAGE_CHOICES,
    Params,
    PortfolioQuery,
    portfolio_page,
)
from vigie.equipment.models import Solution
from vigie.lib.decorators import firm_required

# (label, sort key or "") per view, after the ENTREPRISE and CONTACT columns.
COLUMNS = {
    "equipement": [
        ("ACHAT", ""),
        ("VENTE", ""),
        ("CAISSE", ""),
        ("MANDAT", "mandat"),
        ("INSCRIPTION PA", "pa"),
        ("SENSI. RÉFORME", "sensi"),
        ("NOTES", ""),
    ],
    "collecte": [
        ("RÉCEPTION FLUX", ""),
        ("FLUX ACHAT", ""),
        ("FLUX VENTE", ""),
        ("FLUX BANQUE", ""),
        ("PAIE", ""),
        ("EMAIL DE COLLECTE", ""),
        ("CABINET", ""),
    ],
}
VIEW_LABELS = [("collecte", "Collecte"), ("equipement", "Equipement")]


def _headers(params: Params, home: str) -> list[list[dict]]:
    """Each column header as links: a click sorts by it, a second click reverses."""

    def link(label: str, key: str = "") -> dict:
        if not key:
            return {"label": label}
        direction = ""
        if params.sort_key == key:
            direction = "desc" if params.descending else "asc"
        url = home + params.url(sort=f"-{key}" if params.sort == key else key)
        return {"label": label, "url": url, "direction": direction}

    return [
        [link("ENTREPRISE", "name"), link("code", "code")],
        [link("CONTACT")],
        *[[link(label, key)] for label, key in COLUMNS[params.view]],
    ]


def _query(request) -> tuple[PortfolioQuery, dict]:
    """The page's state from the URL, checked against this firm's own choices."""
    params = Params.from_query(request.GET)
    collaborators = list(
        User.objects.filter(membership__firm=request.firm).order_by("last_name", "first_name", "id")
    )
    solutions = list(Solution.objects.only("id", "slug", "name"))
    if params.collab and params.collab not in {u.id for u in collaborators}:
        params = replace(params, collab=None)
    solution_id = next((s.id for s in solutions if s.slug == params.solution), None)
    if params.solution and solution_id is None:
        params = replace(params, solution="")
    query = PortfolioQuery(
        firm_id=request.firm.id, params=params, user_id=request.user.id, solution_id=solution_id
    )
    return query, {"collaborators": collaborators, "solutions": solutions}


@require_GET
@firm_required
def portfolio(request):
    query, choices = _query(request)
    params = query.params
    page = portfolio_page(query, request.firm)
    home = reverse("home")
    context = {
        "params": params,
        "page": page,
        "headers": _headers(params, home),
        "views": [
            {
                "label": label,
                "url": home + params.url(view=key, page=page.number),
                "active": key == params.view,
            }
            for key, label in VIEW_LABELS
        ],
        "prev_url": home + params.url(page=page.number - 1),
        "next_url": home + params.url(page=page.number + 1),
        "state_without_page": [(k, v) for k, v in params.as_query().items() if k != "page"],
        "reset_url": home + Params(view=params.view, per_page=params.per_page).url(),
        "per_page_choices": PER_PAGE_CHOICES,
        "mandate_choices": MandateStatus.choices[1:],
        "pa_choices": PaStatus.choices,
        "shine_choices": ShineStatus.choices[1:],
        "export_query": params.url().lstrip("?"),
        **choices,
    }
    template = "clients/portfolio.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


@require_GET
@firm_required
def portfolio_export(request, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format inconnu.")
    query, _ = _query(request)
    if fmt == "csv":
        return export.csv_response(query, request.firm)
    return export.xlsx_response(query, request.firm)

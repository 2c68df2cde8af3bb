from __future__ import annotations

from dataclasses import replace
from html import escape

from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from vigie.clients.portfolio import export, filters
from vigie.clients.portfolio.cells import COLUMNS
from vigie.clients.portfolio.query import (
    Lookups,
    Params,
    PortfolioQuery,
    portfolio_page,
)
from vigie.clients.portfolio.results import Results, results_html
from vigie.lib.decorators import firm_required
from vigie.lib.routes import route

VIEW_LABELS = [("collecte", "Collecte"), ("equipement", "Equipement")]


def _headers(params: Params, home: str) -> SafeString:
    """The columns' `<th>`s (rendered here like the cells): a click on a sortable
    header sorts by it, a second click reverses."""

    def link(label: str, key: str, first: bool) -> str:
        if not key:
            return escape(label)
        url = escape(home + params.url(sort=f"-{key}" if params.sort == key else key))
        css, aria = "sort", ""
        if params.sort_key == key:
            direction = "desc" if params.descending else "asc"
            css += f" sorted-{direction}"
            aria = f' aria-sort="{direction}ending"'
        if not first:
            css += " sub-sort"
        return (
            f'<a class="{css}" href="{url}" hx-get="{url}" hx-target="#portfolio-results" '
            f'hx-sync="#portfolio-results:replace" hx-push-url="true"{aria}>{escape(label)}</a>'
        )

    cells = []
    for n, (label, key, _css, _cell) in enumerate(COLUMNS[params.view]):
        inner = link(label, key, True)
        if n == 0:
            inner += " " + link("code", "code", False)
        cells.append(f"<th>{inner}</th>")
    return mark_safe("".join(cells))  # noqa: S308 - every value above is escaped


def _rows_html(rows, column_count: int) -> SafeString:
    """The table's body: a page of 100 rows is one string, not 200 template variables."""
    if not rows:
        return mark_safe(
            f'<tr><td colspan="{column_count}" class="empty">'
            "Aucun client ne correspond à cette recherche.</td></tr>"
        )
    return mark_safe("".join(row.html for row in rows))  # noqa: S308 - rendered escaped


def _shine_forms(request, rows) -> SafeString:
    """« Accéder à Shine » of the hover cards: one form each, outside the table's form
    (forms do not nest), posting with the CSRF token to a new tab."""
    forms = [row for row in rows if row.shine_form_id]
    if not forms:
        return mark_safe("")
    token = escape(get_token(request))
    return mark_safe(  # noqa: S308 - every value is escaped
        "".join(
            f'<form id="{row.shine_form_id}" method="post" action="{row.shine_action}" '
            f'target="_blank" hidden><input type="hidden" name="csrfmiddlewaretoken" '
            f'value="{token}"></form>'
            for row in forms
        )
    )


def _query(request) -> tuple[PortfolioQuery, Lookups]:
    """The page's state from the URL, checked against this firm's own choices."""
    params = Params.from_query(request.GET)
    lookups = Lookups.for_firm(request.firm)
    collaborators = list(lookups.users.values())
    solutions = list(lookups.solutions.values())
    if params.collab and params.collab not in {u.id for u in collaborators}:
        params = replace(params, collab=None)
    solution_id = next((s.id for s in solutions if s.slug == params.solution), None)
    if params.solution and solution_id is None:
        params = replace(params, solution="")
    query = PortfolioQuery(
        firm_id=request.firm.id,
        params=params,
        user_id=request.user.id,
        solution_id=solution_id,
        active_clients=lookups.active_clients,
    )
    return query, lookups


@require_GET
@firm_required
def portfolio(request):
    query, lookups = _query(request)
    params = query.params
    page = portfolio_page(query, request.firm, lookups)
    home = route("home")
    column_count = len(COLUMNS[params.view]) + 1
    results = Results(
        params=params,
        page=page,
        home=home,
        headers=_headers(params, home),
        rows_html=_rows_html(page.rows, column_count),
        shine_forms=_shine_forms(request, page.rows),
        views=[
            {
                "label": label,
                "url": home + params.url(view=key, page=page.number),
                "active": key == params.view,
            }
            for key, label in VIEW_LABELS
        ],
        prev_url=home + params.url(page=page.number - 1),
        next_url=home + params.url(page=page.number + 1),
        state_without_page=[(k, v) for k, v in params.as_query().items() if k != "page"],
        export_query=params.url().lstrip("?"),
    )
    html = results_html(request, results)
    if request.htmx and not request.htmx.history_restore_request:
        return HttpResponse(html)
    context = {
        "home": home,
        "params": params,
        "results": html,
        "export_query": results.export_query,
        "reset_url": home + Params(view=params.view, per_page=params.per_page).url(),
        "filter_menus": filters.menus(params, lookups.users.values(), lookups.solutions.values()),
    }
    return render(request, "clients/portfolio.html", context)


@require_GET
@firm_required
def portfolio_export(request, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format inconnu.")
    query, lookups = _query(request)
    if fmt == "csv":
        return export.csv_response(query, request.firm, lookups)
    return export.xlsx_response(query, request.firm, lookups)

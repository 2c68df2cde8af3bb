"""The portfolio's results (`#portfolio-results`): view switch, selection bar, table and
pager, the part every page, sort, search and filter swaps in with htmx.

Written here like the rows, the headers and the filter menus (cells.py, views.py,
filters.py) rather than as a template: three in four requests of the console are this
fragment, and Django's template engine spent ~0.4 ms on its ~40 variables, about a tenth
of such a request (a table of 100 rows is one string already). Every value is escaped
(`html.escape`), as the template's autoescaping did.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

from vigie.clients.portfolio.query import PER_PAGE_CHOICES, Page, Params
from vigie.lib.routes import route

# The attributes of every link that swaps the results in place.
SWAP = 'hx-target="#portfolio-results" hx-sync="#portfolio-results:replace" hx-push-url="true"'


@dataclass(frozen=True)
class Results:
    """What the fragment shows (vigie.clients.portfolio.views.portfolio)."""

    params: Params
    page: Page
    headers: SafeString
    rows_html: SafeString
    shine_forms: SafeString
    views: list[dict]
    prev_url: str
    next_url: str
    state_without_page: list[tuple[str, str]]
    export_query: str
    home: str


def _view_tabs(views: list[dict]) -> str:
    tabs = []
    for view in views:
        url = escape(view["url"])
        active = view["active"]
        tabs.append(
            f'\n    <a role="tab" href="{url}" hx-get="{url}" {SWAP} '
            f'class="{"active" if active else ""}" '
            f'aria-selected="{"true" if active else "false"}">{escape(view["label"])}</a>\n  '
        )
    return "".join(tabs)


def _pager(r: Results) -> str:
    params, page = r.params, r.page
    options = "".join(
        f'<option value="{n}"{" selected" if params.per_page == n else ""}>{n}</option>'
        for n in PER_PAGE_CHOICES
    )
    if page.has_previous:
        prev_url = escape(r.prev_url)
        previous = (
            f'<a class="button small" rel="prev" href="{prev_url}" hx-get="{prev_url}" {SWAP} '
            'aria-label="Page précédente">&lt;</a>'
        )
    else:
        previous = '<span class="button small" aria-disabled="true">&lt;</span>'
    if page.has_next:
        next_url = escape(r.next_url)
        following = (
            f'<a class="button small" rel="next" href="{next_url}" hx-get="{next_url}" {SWAP} '
            'aria-label="Page suivante">&gt;</a>'
        )
    else:
        following = '<span class="button small" aria-disabled="true">&gt;</span>'
    state = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(str(value))}">'
        for name, value in r.state_without_page
    )
    home = escape(r.home)
    return f"""<nav class="pager" aria-label="Pagination">
  <label>Lignes par page
    <select name="per_page" form="portfolio-filters" data-autosubmit data-testid="per-page">
      {options}
    </select>
  </label>
  <span class="range" data-testid="page-range">{page.start}-{page.end} sur {page.total}</span>
  {previous}
  {following}
  <form class="page-jump" method="get" action="{home}" hx-get="{home}" {SWAP}>
    {state}
    <label>Page <input type="number" name="page" min="1" max="{page.last}" value="{page.number}" data-testid="page-number"> sur {page.last}</label>
    <button type="submit" class="button small">Aller</button>
  </form>
</nav>
"""


def results_html(request, r: Results) -> SafeString:
    params, page = r.params, r.page
    echo = ""
    if params.q:
        echo = (
            '<p class="muted search-echo">Résultats pour « '
            f'<span data-testid="search-echo">{escape(params.q)}</span> »</p>'
        )
    token = escape(get_token(request))
    export_query = escape(r.export_query)
    # The state kept by the filter form (its form= attribute) lives here, so that it
    # follows each swap.
    html = f"""
<input type="hidden" name="view" value="{escape(params.view)}" form="portfolio-filters">
<input type="hidden" name="sort" value="{escape(params.sort)}" form="portfolio-filters">
<div class="view-switch" role="tablist">
  {_view_tabs(r.views)}
</div>
{echo}

<form id="portfolio-selection" class="portfolio-selection" method="get" action="{escape(r.home)}">
  <input type="hidden" name="all" value="" data-select-all-input>
  <input type="hidden" name="query" value="{export_query}">
  <div class="selection-bar" data-selection-bar hidden>
    <span data-selection-count>0</span> sélectionnés
    <button type="button" class="button small" data-select-all data-total="{page.total}">Sélectionner les {page.total} clients</button>
    <button type="button" class="button small" data-select-none>Annuler la sélection</button>
    <button type="button" class="button small primary" hx-get="{escape(route("selection_dialog"))}" hx-include="closest form" hx-target="#modal-body" data-testid="equip-selection">+ Ajouter (Achat / Vente)</button>
    <input type="hidden" name="csrfmiddlewaretoken" value="{token}">
    <label class="check"><input type="checkbox" name="send_email" value="1"> avec l'e-mail d'information</label>
    <button type="submit" class="button small primary" formmethod="post" formaction="{escape(route("reform_sensitise_selection"))}" data-testid="bulk-sensitise">Marquer sensibilisé</button>
  </div>
  <table class="table portfolio" data-testid="portfolio-table">
    <thead><tr>
      <th class="col-check"><input type="checkbox" data-check-page aria-label="Sélectionner la page"></th>
      
      {r.headers}
    </tr></thead>
    <tbody>
    {r.rows_html}
    </tbody>
  </table>
</form>
{r.shine_forms}

{_pager(r)}"""
    return mark_safe(html)  # noqa: S308 - every value above is escaped or already HTML

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from vigie.campaigns import funnel
from vigie.clients.portfolio import export, filters, rowcache
from vigie.clients.portfolio.cells import COLUMNS
from vigie.clients.portfolio.query import PER_PAGE_CHOICES, Params, portfolio_page, query_for
from vigie.exports import services as exports
from vigie.exports.models import Format
from vigie.lib.decorators import firm_required


def _headers(params: Params, home: str) -> list[list[dict]]:
    """The links of each column's header: a click on a sortable header sorts by it, a
    second click reverses; the first column also sorts by code."""

    def link(label: str, key: str) -> dict:
        if not key:
            return {"label": label}
        sorted_by = params.sort_key == key
        return {
            "label": label,
            "url": home + params.url(sort=f"-{key}" if params.sort == key else key),
            "direction": ("desc" if params.descending else "asc") if sorted_by else "",
        }

    headers = [[link(label, key)] for label, key in COLUMNS[params.view]]
    headers[0].append(link("code", "code"))
    return headers


@require_GET
@firm_required
def portfolio(request):
    query, lookups = query_for(request.firm, request.user, request.GET)
    params = query.params
    page = portfolio_page(query)
    home = reverse("home")

    def parts() -> dict:
        """What the table and the pager show besides the rows (built on a miss only)."""
        return {
            "params": params,
            "home": home,
            "headers": _headers(params, home),
            "prev_url": home + params.url(page=page.number - 1),
            "next_url": home + params.url(page=page.number + 1),
            "per_page_choices": PER_PAGE_CHOICES,
            "state_without_page": [(k, v) for k, v in params.as_query().items() if k != "page"],
        }

    context = {
        "params": params,
        "page": page,
        "home": home,
        "fragment": rowcache.page_fragment(request.firm, lookups, params, page, parts),
        "views": [
            {
                "label": label,
                "url": home + params.url(view=key, page=page.number),
                "active": key == params.view,
            }
            for key, label in filters.VIEW_LABELS
        ],
        "export_query": params.url().lstrip("?"),
    }
    if request.htmx and not request.htmx.history_restore_request:
        context["oob"] = True  # the toolbar's export links follow the state
        return render(request, "clients/portfolio.html#results", context)
    context["reset_url"] = home + Params(view=params.view, per_page=params.per_page).url()
    context["filter_menus"] = filters.menus(
        params,
        lookups.users.values(),
        lookups.solutions.values(),
        campaign=funnel.campaign_for_filter(request.firm.id, params.campagne),
    )
    return render(request, "clients/portfolio.html", context)


@require_http_methods(["GET", "POST"])
@firm_required
def portfolio_export(request, fmt: str):
    """The toolbar's « Exporter » buttons post here (the view's state in the query
    string). Up to EXPORT_INLINE_MAX_ROWS matches the file comes at once, by GET too;
    above, the worker prepares it (vigie.exports): a POST queues it and answers with the
    export's page, a GET (a link followed, a bookmark) only offers to, so that no page
    another site opens can queue work."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format inconnu.")
    query, lookups = query_for(request.firm, request.user, request.GET)
    # The request only counts the matches (as the page does).
    matches = query.count()
    if matches > settings.EXPORT_INLINE_MAX_ROWS:
        asked = {"firm": request.firm, "user": request.user, "params": query.params, "fmt": fmt}
        if request.method == "POST":
            job = exports.export_request(rows=matches, **asked)
        else:
            job = exports.pending_export(**asked)
        if job is not None:
            return redirect("export_detail", public_id=job.public_id)
        context = {
            "fmt": fmt,
            "fmt_label": Format(fmt).label,
            "rows": matches,
            "inline_max": settings.EXPORT_INLINE_MAX_ROWS,
            "export_query": query.params.url().lstrip("?"),
        }
        return render(request, "exports/confirm.html", context)
    if fmt == "csv":
        return export.csv_response(query, request.firm, lookups)
    return export.xlsx_response(query, request.firm, lookups)

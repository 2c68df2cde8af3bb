"""Portfolio rows rendered once per version, kept in the `rows` cache (settings.CACHES);
and each page's table and pager, kept in the `pages` cache (`page_fragment`, below).

Building and rendering a page's rows (their clients, contacts, collaborators and
equipment: two statements, then the template's `row` partial) cost more than the rest of
the page. Each client has a row version that the database renews whenever anything its
row shows changes (vigie.clients.rowversion). A page reads its rows' versions with their
ids (PortfolioQuery.page_ids), asks the cache for them in one `get_many`, renders only the
rows missing at that version and stores those with one `set_many`.

The key of a row: its client, its version, the view (its columns), and a digest of what
else the row shows, the same for every row of the firm: the firm's collaborators
(avatars) and the catalogue (solution names), the active language and time zone, the
script prefix (the links) and the template's source. A renamed collaborator, a new
template or a new language gives new keys; the old rows age out of the cache (docs/CACHING.md).

Versions are read before the rows are built: what is stored under a version is that
version's state or a later one, never an older one, and a later version has another key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

from django.core.cache import caches
from django.template import engines
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from vigie.clients.portfolio.cells import row_context
from vigie.clients.portfolio.query import Lookups, Page, Params, load_rows

ALIAS = "rows"
PAGES_ALIAS = "pages"
TEMPLATE = "clients/portfolio.html"
# The row, in Jinja2 (settings.TEMPLATES): the one fragment rendered on each miss.
ROW_TEMPLATE = "clients/portfolio_row.html"


class CachedRow(NamedTuple):
    """A rendered row: its `<tr>`, and what the « Accéder à Shine » form of its card
    needs (rendered by the page with the request's CSRF token)."""

    html: SafeString
    client_id: int
    code: str
    shine_form: bool


class Fragment(NamedTuple):
    """A page's table and pager, rendered, and the (client id, code) of the rows whose
    Shine card needs an « Accéder à Shine » form (rendered by the page, with the
    request's CSRF token)."""

    table: SafeString
    pager: SafeString
    shine_forms: tuple[tuple[int, str], ...]


def clear() -> None:
    caches[ALIAS].clear()
    caches[PAGES_ALIAS].clear()


def _row_template():
    return engines["jinja2"].get_template(ROW_TEMPLATE)


@cache
def _template_digest(partial: str = "row") -> str:
    if partial == "row":
        env = engines["jinja2"].env
        source = env.loader.get_source(env, ROW_TEMPLATE)[0]
    else:
        source = get_template(f"{TEMPLATE}#{partial}").template.source
    return hashlib.blake2b(source.encode()).hexdigest()


def _digest(firm, lookups: Lookups) -> str:
    state = (
        _template_digest(),
        firm.id,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        get_script_prefix(),
        [(u.id, u.email, u.first_name, u.last_name) for u in lookups.users.values()],
        [(s.id, s.slug, s.name) for s in lookups.solutions.values()],
    )
    return hashlib.blake2b(repr(state).encode(), digest_size=12).hexdigest()


def keys(firm, lookups: Lookups, view: str, versions: dict[int, int]) -> dict[int, str]:
    """The cache key of each row of `versions` (client id → row version)."""
    digest = _digest(firm, lookups)
    return {pk: f"{digest}:{pk}:{version}:{view}" for pk, version in versions.items()}


def _render(template, row, view: str) -> CachedRow:
    r = row_context(row)
    # Jinja2 escaped every value (autoescape, settings.TEMPLATES): the row is HTML.
    html = mark_safe(template.render({"r": r, "view": view}))  # noqa: S308
    return CachedRow(html, r["id"], r["code"], view == "equipement" and r["shine_form"])


def page_rows(
    firm, ids: list[int], lookups: Lookups, view: str, found: dict[int, int]
) -> list[CachedRow]:
    """The rendered rows of `ids` (the firm's clients among them), in that order;
    `found`: their versions, read with the ids by the page's statement."""
    if not ids:
        return []
    rows = caches[ALIAS]
    wanted = keys(firm, lookups, view, found)
    kept = rows.get_many(wanted.values())
    out = {pk: kept[key] for pk, key in wanted.items() if key in kept}
    # Rendered here: those not kept at their version, and those without a version (load_rows
    # reads only the firm's clients).
    missing = [pk for pk in ids if pk not in out]
    if missing:
        template = _row_template()
        rendered = {
            row.client.id: _render(template, row, view) for row in load_rows(firm, missing, lookups)
        }
        out.update(rendered)
        rows.set_many({wanted[pk]: row for pk, row in rendered.items() if pk in wanted})
    return [out[pk] for pk in ids if pk in out]


def _page_key(firm, lookups: Lookups, params: Params, page: Page) -> str | None:
    """What the table and the pager show: the rows (each client at its version, so any
    change to one is a new key), the page's place in the results, the state of the URL
    (sorts, filters: the links), and what every row shows besides its client (`_digest`);
    None when a row has no version (never kept, as in `page_rows`)."""
    if any(pk not in page.versions for pk in page.ids):
        return None
    state = (
        _digest(firm, lookups),
        _template_digest("table"),
        _template_digest("pager"),
        sorted(params.as_query().items()),
        page.total,
        page.number,
        page.per_page,
        [(pk, page.versions[pk]) for pk in page.ids],
    )
    return hashlib.blake2b(repr(state).encode(), digest_size=16).hexdigest()


def page_fragment(
    firm, lookups: Lookups, params: Params, page: Page, context: Callable[[], dict]
) -> Fragment:
    """The page's table and pager: from the `pages` cache when this page was rendered with
    these rows at these versions, else rendered (its rows from `page_rows`) and kept.
    `context()`: what the two partials need besides the rows (called on a miss only)."""
    key = _page_key(firm, lookups, params, page)
    kept = caches[PAGES_ALIAS].get(key) if key else None
    if kept is not None:
        return kept
    rows = page_rows(firm, page.ids, lookups, params.view, page.versions)
    values = {**context(), "page": page, "rows": rows}
    fragment = Fragment(
        table=get_template(f"{TEMPLATE}#table").render(values),
        pager=get_template(f"{TEMPLATE}#pager").render(values),
        shine_forms=tuple((row.client_id, row.code) for row in rows if row.shine_form),
    )
    if key:
        caches[PAGES_ALIAS].set(key, fragment)
    return fragment

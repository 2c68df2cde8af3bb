"""Portfolio rows rendered once per version, kept in the `rows` cache (settings.CACHES).

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
from functools import cache
from typing import NamedTuple

from django.core.cache import caches
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from vigie.clients.portfolio.cells import row_context
from vigie.clients.portfolio.query import Lookups, load_rows

ALIAS = "rows"
TEMPLATE = "clients/portfolio.html"


class CachedRow(NamedTuple):
    """A rendered row: its `<tr>`, and what the « Accéder à Shine » form of its card
    needs (rendered by the page with the request's CSRF token)."""

    html: SafeString
    client_id: int
    code: str
    shine_form: bool


def clear() -> None:
    caches[ALIAS].clear()


@cache
def _template_digest() -> str:
    return hashlib.blake2b(get_template(f"{TEMPLATE}#row").template.source.encode()).hexdigest()


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
    html = template.render({"r": r, "view": view})
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
        template = get_template(f"{TEMPLATE}#row")
        rendered = {
            row.client.id: _render(template, row, view) for row in load_rows(firm, missing, lookups)
        }
        out.update(rendered)
        rows.set_many({wanted[pk]: row for pk, row in rendered.items() if pk in wanted})
    return [out[pk] for pk in ids if pk in out]

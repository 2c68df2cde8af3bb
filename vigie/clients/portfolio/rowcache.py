"""Portfolio rows rendered once per version, kept between requests.

Building and rendering a page's rows (their clients, contacts, collaborators and
equipment: two statements, then ~50 µs of Python a row) cost more than the rest of the
page. Each client has a row version that the database renews whenever anything its row
shows changes (vigie.clients.rowversion). A page reads its rows' versions with their ids
(PortfolioQuery.page_ids) and renders only the rows this process has not rendered at
that version; the others come from here.

The key of a row: its firm, its client, its version, the view (its columns), and a
generation standing for what the page reads on every request and the rows show too: the
firm's collaborators (avatars) and the catalogue (solution names), with the active
language and time zone. A renamed collaborator starts a new generation; the rows of the
old one age out.

Versions are read before the rows are built: what is stored under a version is that
version's state or a later one, never an older one, and a later version has another key.
Each process keeps its own rows, the least recently used dropped past
`PORTFOLIO_ROW_CACHE` rows (settings); a lock keeps them whole under threaded servers
(runserver, gthread).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from html import escape

from django.conf import settings
from django.utils import timezone, translation

from vigie.clients.portfolio.cells import has_shine_card, row_html, shine_access_form_id
from vigie.clients.portfolio.query import Lookups, load_rows


class CachedRow:
    """A rendered row: its `<tr>`, and the « Accéder à Shine » form its card needs."""

    __slots__ = ("html", "shine_form_id", "shine_action")

    def __init__(self, html: str, shine_form_id: str = "", shine_action: str = ""):
        self.html = html
        self.shine_form_id = shine_form_id
        self.shine_action = shine_action


_ROWS: OrderedDict[tuple, CachedRow] = OrderedDict()
_GENERATIONS: dict[tuple, int] = {}
MAX_GENERATIONS = 1000
_LOCK = threading.Lock()


def clear() -> None:
    with _LOCK:
        _ROWS.clear()
        _GENERATIONS.clear()


def _generation(lookups: Lookups) -> int:
    state = (
        translation.get_language(),
        timezone.get_current_timezone_name(),
        tuple((u.id, u.email, u.first_name, u.last_name) for u in lookups.users.values()),
        tuple((s.id, s.slug, s.name) for s in lookups.solutions.values()),
    )
    with _LOCK:
        generation = _GENERATIONS.get(state)
        if generation is None:
            if len(_GENERATIONS) >= MAX_GENERATIONS:
                # Numbers start again: the rows of the old ones go with them.
                _ROWS.clear()
                _GENERATIONS.clear()
            generation = _GENERATIONS[state] = len(_GENERATIONS)
    return generation


def _render(row, view: str) -> CachedRow:
    html = f'<tr data-code="{escape(row.client.code)}">{row_html(row, view)}</tr>'
    if view == "equipement" and has_shine_card(row):
        return CachedRow(html, shine_access_form_id(row), escape(row.link("shine_access")))
    return CachedRow(html)


def page_rows(
    firm, ids: list[int], lookups: Lookups, view: str, found: dict[int, int]
) -> list[CachedRow]:
    """The rendered rows of `ids` (the firm's clients among them), in that order;
    `found`: their versions, read with the ids by the page's statement."""
    if not ids:
        return []
    generation = _generation(lookups)
    keys = {pk: (generation, firm.id, pk, version, view) for pk, version in found.items()}
    out: dict[int, CachedRow] = {}
    with _LOCK:
        for pk, key in keys.items():
            cached = _ROWS.get(key)
            if cached is not None:
                _ROWS.move_to_end(key)
                out[pk] = cached
    # Rendered here: those not kept at their version, and those without a version (load_rows
    # reads only the firm's clients).
    missing = [pk for pk in ids if pk not in out]
    if missing:
        rendered = {row.client.id: _render(row, view) for row in load_rows(firm, missing, lookups)}
        out.update(rendered)
        limit = settings.PORTFOLIO_ROW_CACHE
        with _LOCK:
            for pk, row in rendered.items():
                if limit and pk in keys:
                    _ROWS[keys[pk]] = row
            while len(_ROWS) > limit:
                _ROWS.popitem(last=False)
    return [out[pk] for pk in ids if pk in out]

"""The portfolio list: its state (from the URL) and its queries.

PERFORMANCE.md: page the ids first (count + one `ORDER BY … LIMIT/OFFSET` over
indexed columns of one table), then load the page's rows with their details in a
constant number of queries. Search goes through the trigram index of the clients'
search documents (vigie.clients.searchdoc, pg_trgm).

Every statement here is scoped to one firm: `firm_id` is the first condition of each
(the search subquery carries it as the prefix of its indexed pattern,
`'<firm_id>:%word%'`, see DOCUMENT_KEY_SQL).

A text search (trigram words, or a short prefix of the name or code) is counted and paged
in one statement (`page_ids`); other pages count with an index-only scan, and a page past
the middle reads the index from the other end.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from urllib.parse import urlencode

from django.core.cache import caches
from django.db import connection
from django.db.models import OuterRef, Subquery

from vigie.accounts.models import Collaborator, User
from vigie.clients import searchdoc
from vigie.clients.counts import active_clients
from vigie.clients.models import (
    Client,
    ClientAssignment,
    ClientCount,
    Contact,
    DirectoryVersion,
    LegalForm,
    MandateStatus,
    PaStatus,
    ShineStatus,
)
from vigie.clients.rowversion import TABLE as VERSION_TABLE
from vigie.equipment.models import Equipment, Slot, Solution
from vigie.invitations.models import Status
from vigie.lib.rows import RowLoader
from vigie.lib.storable import UNSTORABLE
from vigie.lib.text import fold
from vigie.reform.rules import equipped_sql

VIEWS = ("equipement", "collecte")
PER_PAGE_CHOICES = (10, 25, 50, 100)
MAX_QUERY_LENGTH = 100
# Far past any firm's last page (the page shown is clamped to the last one); keeps the
# offset, and a collaborator's id, inside a bigint.
MAX_PAGE = 1_000_000
MAX_ID = 2**63 - 1
MAX_WORDS = 6
YES_NO = ("oui", "non")
# "non_signe" / "non_inscrit": the clients still to act on (reform dashboard links).
MANDATE_FILTERS = ("aucun", "non_signe", *[v for v in MandateStatus.values if v])
PA_FILTERS = ("non_inscrit", *PaStatus.values)
SHINE_FILTERS = ("aucun", *[v for v in ShineStatus.values if v])

# Sort key (URL) → columns of clients_client, each served by an index (firm_id, col, id).
SORTS = {
    "name": "sort_name",
    "code": "code",
    "mandat": "mandate_status",
    "pa": "pa_status",
    "sensi": "sensitised",
    "shine": "shine_status",
}

CLIENT_TABLE = Client._meta.db_table
CONTACT_TABLE = Contact._meta.db_table
ASSIGNMENT_TABLE = ClientAssignment._meta.db_table
EQUIPMENT_TABLE = Equipment._meta.db_table
MAX_CODE_POINT = "\U0010ffff"
# Each client's search document and its indexed key, `<firm_id>:<doc>`
# (vigie.clients.searchdoc); a pattern `'<firm_id>:%word%'` matches one firm's rows.
DOCUMENT_TABLE = searchdoc.TABLE
DOCUMENT_KEY_SQL = searchdoc.KEY_SQL


def _choice(value: str | None, allowed, default: str = "") -> str:
    return value if value in allowed else default


def _int(value: str | None, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _text(value: str | None, limit: int) -> str:
    """At most `limit` characters, without any PostgreSQL cannot store (the middleware
    refuses them in a URL, but a selection posts the portfolio's state as one field)."""
    return UNSTORABLE.sub("", (value or "")[: limit * 4])[:limit]


@dataclass(frozen=True)
class Params:
    """Everything the page shows, read from (and written back to) the query string."""

    view: str = "equipement"
    q: str = ""
    sort: str = "name"
    page: int = 1
    per_page: int = 10
    mine: bool = False
    collab: int | None = None
    achat: str = ""
    vente: str = ""
    caisse: str = ""
    solution: str = ""
    shine: str = ""
    mandat: str = ""
    pa: str = ""
    sensi: str = ""
    facturation: str = ""

    @classmethod
    def from_query(cls, data: Mapping[str, str]) -> Params:
        sort = data.get("sort") or "name"
        if sort.lstrip("-") not in SORTS:
            sort = "name"
        per_page = _int(data.get("per_page"), 10)
        collab = _int(data.get("collab"), 0)
        return cls(
            view=_choice(data.get("view"), VIEWS, "equipement"),
            q=" ".join(_text(data.get("q"), MAX_QUERY_LENGTH * 4).split())[:MAX_QUERY_LENGTH],
            sort=sort,
            page=min(max(1, _int(data.get("page"), 1)), MAX_PAGE),
            per_page=per_page if per_page in PER_PAGE_CHOICES else 10,
            mine=data.get("mine") in ("1", "on", "oui"),
            collab=collab if 0 < collab <= MAX_ID else None,
            achat=_choice(data.get("achat"), YES_NO),
            vente=_choice(data.get("vente"), YES_NO),
            caisse=_choice(data.get("caisse"), YES_NO),
            solution=_text(data.get("solution"), 50),
            shine=_choice(data.get("shine"), SHINE_FILTERS),
            mandat=_choice(data.get("mandat"), MANDATE_FILTERS),
            pa=_choice(data.get("pa"), PA_FILTERS),
            sensi=_choice(data.get("sensi"), YES_NO),
            facturation=_choice(data.get("facturation"), YES_NO),
        )

    def as_query(self, **changes) -> dict[str, str]:
        """The non-default values, as they go in a URL (with some values changed)."""
        out = {}
        for name, default in _PARAM_DEFAULTS:
            value = changes[name] if name in changes else getattr(self, name)
            if value != default and value not in (None, "", False):
                out[name] = "1" if value is True else str(value)
        return out

    def url(self, **changes) -> str:
        """`?…` for this state with some values changed (page 1 unless given)."""
        changes.setdefault("page", 1)
        query = urlencode(self.as_query(**changes))
        return f"?{query}" if query else "?"

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def has_filters(self) -> bool:
        return any(
            (self.mine, self.collab, self.achat, self.vente, self.caisse, self.solution)
        ) or any((self.shine, self.mandat, self.pa, self.sensi, self.facturation))


_PARAM_DEFAULTS = tuple((f.name, f.default) for f in fields(Params))


def search_terms(q: str) -> list[str]:
    """Folded words of the query; a SIRET typed with spaces becomes one number."""
    folded = fold(q)[:MAX_QUERY_LENGTH]
    compact = folded.replace(" ", "")
    if compact.isdigit():
        return [compact]
    return folded.split()[:MAX_WORDS]


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class PortfolioQuery:
    """The SQL of one firm's portfolio for one state of the page."""

    firm_id: int
    params: Params
    user_id: int | None = None
    solution_id: int | None = None
    # The firm's active clients when already read (`Lookups.active_clients`).
    active_clients: int | None = None
    where: list[str] = field(default_factory=list)
    args: list = field(default_factory=list)

    # True when the words go through the trigram indexes: the matches are then few
    # enough to count and sort in one statement (`page_ids`).
    text_search: bool = False
    # Alternatives (SQL, args), each ANDed with `where`, their rows united.
    branches: list[tuple[str, list]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.where = ["c.firm_id = %s", "c.archived_at IS NULL"]  # count() knows these two
        self.args = [self.firm_id]
        self._filters()
        self._search()

    # -- conditions --------------------------------------------------------------------
    def _add(self, sql: str, *args) -> None:
        self.where.append(sql)
        self.args.extend(args)

    def _filters(self) -> None:
        p = self.params
        assigned = f"c.id IN (SELECT client_id FROM {ASSIGNMENT_TABLE} WHERE firm_id = %s AND user_id = %s)"
        if p.mine and self.user_id:
            self._add(assigned, self.firm_id, self.user_id)
        if p.collab:
            self._add(assigned, self.firm_id, p.collab)
        for slot, wanted in ((Slot.ACHAT, p.achat), (Slot.VENTE, p.vente), (Slot.CAISSE, p.caisse)):
            if wanted:
                negate = "NOT " if wanted == "non" else ""
                self._add(
                    f"c.id {negate}IN (SELECT client_id FROM {EQUIPMENT_TABLE} "
                    "WHERE firm_id = %s AND slot = %s)",
                    self.firm_id,
                    str(slot),
                )
        if p.solution:
            self._add(
                f"c.id IN (SELECT client_id FROM {EQUIPMENT_TABLE} "
                "WHERE firm_id = %s AND solution_id = %s)",
                self.firm_id,
                self.solution_id or 0,
            )
        if p.shine:
            self._add("c.shine_status = %s", "" if p.shine == "aucun" else p.shine)
        if p.mandat == "non_signe":
            self._add("c.mandate_status <> %s", str(MandateStatus.SIGNED))
        elif p.mandat:
            self._add("c.mandate_status = %s", "" if p.mandat == "aucun" else p.mandat)
        if p.pa == "non_inscrit":
            self._add("c.pa_status <> %s", str(PaStatus.REGISTERED))
        elif p.pa:
            self._add("c.pa_status = %s", p.pa)
        if p.sensi:
            self._add("c.sensitised = %s", p.sensi == "oui")
        if p.facturation:
            # Equipped to issue e-invoices: the rule lives in vigie.reform.rules.
            sql, args = equipped_sql(self.firm_id)
            self._add(sql if p.facturation == "oui" else f"NOT {sql}", *args)

    def _search(self) -> None:
        words = search_terms(self.params.q)
        if not words:
            return
        long_words = [w for w in words if len(w) >= 3]
        if not long_words:
            # Too short for trigrams: a prefix of the name or of the code (index ranges).
            # Written as two branches (UNION), each a range of one index: an `OR` made
            # PostgreSQL read every row of the firm.
            prefix = " ".join(words)
            self.branches = [
                ("c.sort_name >= %s AND c.sort_name < %s", [prefix, prefix + MAX_CODE_POINT]),
                ("c.code >= %s AND c.code < %s", [prefix.upper(), prefix.upper() + MAX_CODE_POINT]),
            ]
            self.text_search = True
            return
        self.text_search = True
        self._document_search(words, long_words)

    def _document_search(self, words: list[str], long_words: list[str]) -> None:
        """The clients whose search document (vigie.clients.searchdoc) holds
        every word, through its trigram index keyed by firm. An array of their ids,
        computed first: the clients are then read by primary key (as `IN (…)`, PostgreSQL
        hashed them against a scan of every client of the firm)."""
        conditions, args = [], []
        for word in words:
            pattern = f"%{_like_escape(word)}%"
            if word in long_words:
                # The firm as the pattern's prefix: only the firm's index entries answer.
                conditions.append(f"{DOCUMENT_KEY_SQL} LIKE %s ESCAPE '\\'")
                args.append(f"{self.firm_id}:{pattern}")
            else:
                conditions.append("doc LIKE %s ESCAPE '\\'")
                args.append(pattern)
        self._add(
            f"c.id = ANY(ARRAY(SELECT client_id FROM {DOCUMENT_TABLE} "
            f"WHERE {' AND '.join(conditions)}))",
            *args,
        )
        if len(words) > 1:
            # Several words may sit in different parts of a document (one in the client's
            # name, one in a contact's): the rule stays « all in the client, or all in one
            # of its contacts », checked on the few clients whose document has them all.
            each = " AND ".join(["{0}.search_text LIKE %s ESCAPE '\\'"] * len(words))
            patterns = [f"%{_like_escape(word)}%" for word in words]
            self._add(
                f"(({each.format('c')}) OR EXISTS (SELECT 1 FROM {CONTACT_TABLE} k "
                f"WHERE k.firm_id = c.firm_id AND k.client_id = c.id AND {each.format('k')}))",
                *patterns,
                *patterns,
            )

    # -- statements --------------------------------------------------------------------
    @property
    def _where_sql(self) -> str:
        return " AND ".join(self.where)

    def _order_sql(self, *, reverse: bool = False, alias: str = "c", key: str = "") -> str:
        direction = " DESC" if self.params.descending != reverse else ""
        key = key or SORTS[self.params.sort_key]
        return f"{alias}.{key}{direction}, {alias}.id{direction}"

    def matches_sql(self, columns: str = "c.id") -> tuple[str, list]:
        """`SELECT <columns>` of the matching clients (a UNION when there are branches)."""
        base = f"SELECT {columns} FROM {CLIENT_TABLE} c WHERE {self._where_sql}"
        if not self.branches:
            return base, list(self.args)
        parts, args = [], []
        for condition, branch_args in self.branches:
            parts.append(f"{base} AND {condition}")
            args += [*self.args, *branch_args]
        return " UNION ".join(parts), args

    def count(self) -> int:
        if len(self.where) == 2 and not self.branches:
            # No filter, no search: the firm's count kept by triggers (vigie.clients.counts).
            if self.active_clients is not None:
                return self.active_clients
            return active_clients(self.firm_id)
        if self.branches:
            sql, args = self.matches_sql()
            sql = f"SELECT COUNT(*) FROM ({sql}) u"
        else:
            sql, args = self.matches_sql("COUNT(*)")
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchone()[0]

    def _ordered(self, *, offset: int, limit: int, total: int | None):
        """`SELECT id, k … LIMIT %s OFFSET %s` of one page (k: the sort key), with its
        arguments, or None when the page is empty. Given the total, a page past the middle
        is read from the other end of the index (the last page costs what the first one
        does): then the rows come in reverse order."""
        reverse = total is not None and offset > total - offset - limit
        if reverse:
            offset, limit = max(0, total - offset - limit), min(limit, total - offset)
            if limit <= 0:
                return None
        sql, args = self.matches_sql(f"c.id, c.{SORTS[self.params.sort_key]} AS k")
        if self.branches:
            order = self._order_sql(reverse=reverse, alias="u", key="k")
            sql = f"SELECT u.id, u.k FROM ({sql}) u ORDER BY {order}"
        else:
            sql += f" ORDER BY {self._order_sql(reverse=reverse)}"
        return f"{sql} LIMIT %s OFFSET %s", [*args, limit, offset], reverse

    def ids(self, *, offset: int, limit: int, total: int | None = None) -> list[int]:
        """One page of ids (see `_ordered`)."""
        page = self._ordered(offset=offset, limit=limit, total=total)
        if page is None:
            return []
        sql, args, reverse = page
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            ids = [row[0] for row in cursor.fetchall()]
        return ids[::-1] if reverse else ids

    def page_ids(self, *, page: int, per_page: int) -> tuple[int, int, list[int], dict]:
        """(number of matches, page number clamped to the last page, that page's ids,
        {id: row version} of those ids that have one), the versions read by the page's
        statement (vigie.clients.rowversion, for vigie.clients.portfolio.rowcache)."""
        if self.text_search:
            return self._search_page_ids(page, per_page)
        total = self.count()
        number = min(page, max(1, math.ceil(total / per_page)))
        offset = (number - 1) * per_page
        if not total:
            return total, number, [], {}
        rows = self._versioned_ids(offset=offset, limit=per_page, total=total)
        return total, number, [pk for pk, _ in rows], _versions(rows)

    def _versioned_ids(self, *, offset: int, limit: int, total: int) -> list[tuple]:
        """(id, row version) of one page, in order: the versions joined over the page's
        ids only, which still come from the index (`_ordered`)."""
        page = self._ordered(offset=offset, limit=limit, total=total)
        if page is None:
            return []
        sql, args, _reverse = page
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT p.id, v.version FROM ({sql}) p "
                f"LEFT JOIN {VERSION_TABLE} v ON v.client_id = p.id AND v.firm_id = %s "
                f"ORDER BY {self._order_sql(alias='p', key='k')}",
                [*args, self.firm_id],
            )
            return cursor.fetchall()

    def _search_page_ids(self, page: int, per_page: int) -> tuple[int, int, list[int], dict]:
        """A text search in one statement: its matches (a few thousand at most for a
        common surname, found through the trigram indexes) are collected once, then
        counted and sorted; the offset is clamped to the last page in SQL."""
        offset = (page - 1) * per_page
        matches, args = self.matches_sql(f"c.id, c.{SORTS[self.params.sort_key]} AS k")
        sql = (
            f"WITH m AS MATERIALIZED ({matches}), "
            "t AS (SELECT COUNT(*) AS n FROM m) "
            f"SELECT p.id, v.version, p.n FROM (SELECT m.id, m.k, t.n FROM m CROSS JOIN t "
            f"ORDER BY {self._order_sql(alias='m', key='k')} "
            "LIMIT %s OFFSET (SELECT CASE WHEN n = 0 OR %s < n THEN %s "
            "ELSE (n - 1) / %s * %s END FROM t)) p "
            f"LEFT JOIN {VERSION_TABLE} v ON v.client_id = p.id AND v.firm_id = %s "
            f"ORDER BY {self._order_sql(alias='p', key='k')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*args, per_page, offset, offset, per_page, per_page, self.firm_id])
            rows = cursor.fetchall()
        total = rows[0][2] if rows else 0
        number = min(page, max(1, math.ceil(total / per_page)))
        return total, number, [row[0] for row in rows], _versions(rows)

    def iter_id_chunks(self, size: int = 2000) -> Iterator[list[int]]:
        """Every matching id in page order, in chunks (keyset pagination would need
        the sort value; OFFSET over an index is fine for an export)."""
        offset = 0
        while True:
            chunk = self.ids(offset=offset, limit=size)
            if not chunk:
                return
            yield chunk
            if len(chunk) < size:
                return
            offset += size


def _versions(rows) -> dict[int, int]:
    return {row[0]: row[1] for row in rows if row[1] is not None}


# -- rows ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SolutionRef:
    """A solution of the catalogue as the list labels it."""

    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Lookups:
    """Small per-firm tables the page loads anyway (its filter menus), reused to
    label the rows without joins: the firm's collaborators and the catalogue; with
    them, the firm's number of active clients (an unfiltered page's total)."""

    users: dict[int, object]
    solutions: dict[int, object]
    active_clients: int = 0

    @classmethod
    def for_firm(cls, firm) -> Lookups:
        """The firm's lookups, kept in the `lookups` cache under the firm's directory
        version (vigie.clients.directory, renewed by triggers whenever a collaborator or
        the catalogue changes); the count is read each time, with the version."""
        state = (
            DirectoryVersion.objects.filter(firm_id=firm.id)
            .annotate(active=Subquery(_ACTIVE.filter(firm_id=OuterRef("firm_id"))))
            .values_list("version", "active")
            .first()
        )
        if state is None:  # a firm written while the triggers were off: nothing kept
            return replace(cls.read(firm), active_clients=active_clients(firm.id))
        version, active = state
        key = f"{firm.id}:{version}"
        lookups = caches[LOOKUPS_ALIAS].get(key)
        if lookups is None:
            # Read after the version: never older than it.
            lookups = cls.read(firm)
            caches[LOOKUPS_ALIAS].set(key, lookups)
        return replace(lookups, active_clients=active or 0)

    @classmethod
    def read(cls, firm) -> Lookups:
        """The firm's collaborators (by name) and the catalogue (in its order)."""
        users = (
            User.objects.filter(membership__firm_id=firm.id)
            .order_by("last_name", "first_name", "id")
            .values_list("id", "email", "first_name", "last_name")
        )
        solutions = Solution.objects.order_by("group", "position", "name").values_list(
            "id", "slug", "name"
        )
        return cls(
            users={pk: Collaborator(pk, *rest) for pk, *rest in users},
            solutions={pk: SolutionRef(pk, slug, name) for pk, slug, name in solutions},
        )


LOOKUPS_ALIAS = "lookups"
_ACTIVE = ClientCount.objects.values("active")


@dataclass(frozen=True)
class Item:
    """One solution in a slot cell."""

    label: str
    is_shine: bool

    def __str__(self) -> str:
        return self.label


class Row:
    """One client of the list with what its cells need, computed once."""

    __slots__ = (
        "client",
        "contacts",
        "collaborators",
        "achat",
        "vente",
        "caisse",
        "shine_mode",
    )

    def __init__(self, client: ClientRow, shine_mode: str = ""):
        self.client = client
        # The billing mode of the activated Shine invitation (« Cabinet »: the firm bills the client).
        self.shine_mode = shine_mode
        self.contacts: list[str] = []
        self.collaborators: list = []
        self.achat: list[Item] = []
        self.vente: list[Item] = []
        self.caisse: list[Item] = []

    @property
    def contact_label(self) -> str:
        """The single contact's name, or « N contacts »."""
        if len(self.contacts) == 1:
            return self.contacts[0]
        return f"{len(self.contacts)} contacts" if self.contacts else ""

    @property
    def cabinet_shown(self) -> list:
        return self.collaborators[:2]

    @property
    def cabinet_more(self) -> int:
        return max(0, len(self.collaborators) - 2)


CLIENT_FIELDS = (
    "id",
    "firm_id",
    "code",
    "name",
    "legal_form",
    "siret",
    "notes",
    "collect_email",
    "reception_flux",
    "flux_achat",
    "flux_vente",
    "flux_banque",
    "paie",
    "sensitised",
    "sensitised_at",
    "mandate_status",
    "pa_status",
    "pa_name",
    "shine_status",
)


CLIENT_ROW = RowLoader(Client, CLIENT_FIELDS)
LEGAL_FORM_LABELS = dict(LegalForm.choices)
SHINE_LABELS = dict(ShineStatus.choices)


class ClientRow:
    """A client as the list shows it: the columns of CLIENT_FIELDS, converted as the
    ORM would, without a model instance (building 100 instances cost more than the
    statement that reads them)."""

    __slots__ = CLIENT_FIELDS

    def __init__(self, values):
        for name, value in zip(CLIENT_FIELDS, values, strict=True):
            setattr(self, name, value)

    def get_legal_form_display(self) -> str:
        return LEGAL_FORM_LABELS.get(self.legal_form, self.legal_form)

    def get_shine_status_display(self) -> str:
        return SHINE_LABELS.get(self.shine_status, self.shine_status)


INVITATION_TABLE = "invitations_invitation"
# The billing mode of the client's latest activated Shine invitation (its hover card).
SHINE_MODE_SQL = (
    f"(SELECT i.billing_mode FROM {INVITATION_TABLE} i WHERE i.firm_id = c.firm_id "
    "AND i.client_id = c.id AND i.status = %s ORDER BY i.activated_at DESC, i.id DESC LIMIT 1)"
)


def _in(column: str, ids: list[int]) -> tuple[str, list]:
    """`column = ANY(ids)`: one array, so that the statement's text is the same for
    every page (psycopg caches the parsing of statements of up to 50 parameters only; a
    100-row page had 300)."""
    return f"{column} = ANY(%s)", [list(ids)]


def rows_sql(firm_id: int, ids: list[int], *, shine_mode: bool = True) -> tuple[str, list]:
    """The clients of `ids` that belong to the firm, with the Shine billing mode."""
    columns = CLIENT_ROW.columns("c")
    args: list = []
    if shine_mode:
        columns += f", {SHINE_MODE_SQL}"
        args.append(str(Status.ACTIVATED))
    where, ids_args = _in("c.id", ids)
    sql = f"SELECT {columns} FROM {CLIENT_TABLE} c WHERE c.firm_id = %s AND {where}"
    return sql, [*args, firm_id, *ids_args]


def details_sql(client_ids: list[int]) -> tuple[str, list]:
    """Equipment, contacts and collaborators of clients already checked to be the
    firm's, in one statement, looked up by client only (their client_id indexes)."""
    where, args = _in("client_id", client_ids)
    sql = (
        # The equipment first: PostgreSQL types each column of a UNION from its
        # first branches (created_at must not meet two NULLs typed as text).
        f"SELECT 'e', client_id, NULL, slot, plan, NULL, solution_id, created_at, id "
        f"FROM {EQUIPMENT_TABLE} WHERE {where} "
        f"UNION ALL SELECT 'c', client_id, is_principal, first_name, last_name, email, "
        f"NULL, NULL, id FROM {CONTACT_TABLE} WHERE {where} "
        f"UNION ALL SELECT 'a', client_id, NULL, NULL, NULL, NULL, user_id, NULL, id "
        f"FROM {ASSIGNMENT_TABLE} WHERE {where}"
    )
    return sql, args * 3


def load_rows(firm, ids: list[int], lookups: Lookups, *, shine_mode: bool = True) -> list[Row]:
    """The rows of `ids`, in that order, with contacts, collaborators and equipment:
    two statements whatever the number of ids, written as SQL (the ORM spent more time
    building four queries than the database answering them). Labels come from
    `lookups`; the Shine billing mode comes with the clients, as a subquery over the
    page's ids only."""
    if not ids:
        return []
    rows: dict[int, Row] = {}
    with connection.cursor() as cursor:
        cursor.execute(*rows_sql(firm.id, ids, shine_mode=shine_mode))
        convert = CLIENT_ROW.converter()
        for values in cursor.fetchall():
            client = ClientRow(convert(values[: len(CLIENT_ROW)]))
            mode = values[len(CLIENT_ROW)] if shine_mode else ""
            rows[client.id] = Row(client, mode or "")
        if not rows:
            return []
        cursor.execute(*details_sql(list(rows)))
        details = cursor.fetchall()
    # The orders of the page: principal contact first then by name; collaborators in
    # the order they were assigned; equipment in the order it was added.
    contacts = sorted(
        (d for d in details if d[0] == "c"), key=lambda d: (not d[2], d[4], d[3], d[8])
    )
    for _k, client_id, _principal, first, last, email, *_rest in contacts:
        rows[client_id].contacts.append(f"{first} {last}".strip() or email)
    for _k, client_id, *_cols, user_id, _at, _id in sorted(
        (d for d in details if d[0] == "a"), key=lambda d: d[8]
    ):
        if user_id in lookups.users:
            rows[client_id].collaborators.append(lookups.users[user_id])
    for _k, client_id, _p, slot, plan, _e, solution_id, _at, _id in sorted(
        (d for d in details if d[0] == "e"), key=lambda d: (str(d[7]), d[8])
    ):
        solution = lookups.solutions.get(solution_id)
        if solution is None or slot not in Row.__slots__:
            continue
        item = Item(f"{solution.name} {plan}".strip(), solution.slug == "shine")
        getattr(rows[client_id], slot).append(item)
    return [rows[i] for i in ids if i in rows]


@dataclass
class Page:
    """One page of results: which clients, at which row versions, out of how many."""

    ids: list[int]
    versions: dict[int, int]  # client id → row version (vigie.clients.rowversion)
    total: int
    number: int
    per_page: int

    @property
    def last(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def end(self) -> int:
        return min(self.total, self.number * self.per_page)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.last


def portfolio_page(query: PortfolioQuery) -> Page:
    """Count, clamp the page number to the last page, and read that page's ids with their
    row versions (one or two statements; the rows themselves come from
    vigie.clients.portfolio.rowcache)."""
    params = query.params
    total, number, ids, versions = query.page_ids(page=params.page, per_page=params.per_page)
    return Page(ids=ids, versions=versions, total=total, number=number, per_page=params.per_page)

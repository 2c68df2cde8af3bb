"""The portfolio list: its state (from the URL) and its queries.

PERFORMANCE.md: page the ids first (count + one `ORDER BY … LIMIT/OFFSET` over
indexed columns of one table), then load the page's rows with their details in a
constant number of queries. Search goes through the trigram index of the clients'
search documents (vigie.clients.searchdoc, pg_trgm).

Every statement here is scoped to one firm: `firm_id` is the first condition of each
(the search subquery carries it in each of its index keys, `<firm_id>:<trigram>`, see
DOCUMENT_KEYS).

A text search (trigram words, or a short prefix of the name or code) is counted and paged
in one statement (`page_ids`); other pages count with an index-only scan, and a page past
the middle reads the index from the other end.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.core.cache import caches
from django.db import connection
from psycopg import sql

from vigie.accounts.models import Collaborator, User
from vigie.campaigns import funnel as campaigns
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
    RowVersion,
    SearchDocument,
    ShineStatus,
)
from vigie.equipment.models import Equipment, Slot, Solution
from vigie.invitations.models import Invitation, Status
from vigie.lib.storable import UNSTORABLE
from vigie.lib.text import fold
from vigie.reform.rules import equipped_sql
from vigie.registries import rules as registers
from vigie.registries.models import RegisterCheck

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
# The clients' standing in the public registers, and their findings (vigie.registries.rules).
REGISTER_FILTERS = registers.STATUSES
FINDING_FILTERS = registers.KIND_KEYS
# A campaign's clients, at one stage of its funnel (vigie.campaigns.funnel).
STAGE_FILTERS = campaigns.STAGE_KEYS

# Sort key (URL) → columns of clients_client, each served by an index (firm_id, col, id).
SORTS = {
    "name": "sort_name",
    "code": "code",
    "mandat": "mandate_status",
    "pa": "pa_status",
    "sensi": "sensitised",
    "shine": "shine_status",
}

SQL = sql.SQL
CLIENTS = sql.Identifier(Client._meta.db_table)
CONTACTS = sql.Identifier(Contact._meta.db_table)
ASSIGNMENTS = sql.Identifier(ClientAssignment._meta.db_table)
EQUIPMENT = sql.Identifier(Equipment._meta.db_table)
VERSIONS = sql.Identifier(RowVersion._meta.db_table)
MAX_CODE_POINT = "\U0010ffff"
# Each client's search document and its indexed keys, `<firm_id>:<trigram>`
# (vigie.clients.searchdoc): the keys of the words typed find one firm's documents.
DOCUMENTS = sql.Identifier(SearchDocument._meta.db_table)
DOCUMENT_KEYS = SQL(searchdoc.KEYS_SQL)
IDS = SQL("c.id")
FIRM_STATE = SQL(
    "SELECT (SELECT active FROM {} WHERE firm_id = %s), (SELECT version FROM {} WHERE firm_id = %s)"
).format(
    sql.Identifier(ClientCount._meta.db_table), sql.Identifier(DirectoryVersion._meta.db_table)
)


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
    registres: str = ""
    constat: str = ""
    campagne: str = ""
    etape: str = ""

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
            registres=_choice(data.get("registres"), REGISTER_FILTERS),
            constat=_choice(data.get("constat"), FINDING_FILTERS),
            campagne=campaigns.parse_public_id(data.get("campagne")),
            etape=_choice(data.get("etape"), STAGE_FILTERS),
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
        return (
            any((self.mine, self.collab, self.achat, self.vente, self.caisse, self.solution))
            or any((self.shine, self.mandat, self.pa, self.sensi, self.facturation, self.registres))
            or bool(self.constat or self.campagne)
        )


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
    """The SQL of one firm's portfolio for one state of the page, composed with
    psycopg.sql: table names as identifiers, values always as parameters."""

    firm_id: int
    params: Params
    user_id: int | None = None
    solution_id: int | None = None
    # The firm's active clients when already read (`Lookups.active_clients`).
    active_clients: int | None = None
    where: list[sql.Composable] = field(default_factory=list)
    args: list = field(default_factory=list)

    # True when the words go through the trigram indexes: the matches are then few
    # enough to count and sort in one statement (`page_ids`).
    text_search: bool = False
    # Alternatives (SQL, args), each ANDed with `where`, their rows united.
    branches: list[tuple[sql.Composable, list]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.where = [SQL("c.firm_id = %s"), SQL("c.archived_at IS NULL")]  # count() knows these
        self.args = [self.firm_id]
        self._filters()
        self._search()

    # -- conditions --------------------------------------------------------------------
    def _add(self, condition: sql.Composable, *args) -> None:
        self.where.append(condition)
        self.args.extend(args)

    def _filters(self) -> None:
        p = self.params
        assigned = SQL(
            "c.id IN (SELECT client_id FROM {} WHERE firm_id = %s AND user_id = %s)"
        ).format(ASSIGNMENTS)
        if p.mine and self.user_id:
            self._add(assigned, self.firm_id, self.user_id)
        if p.collab:
            self._add(assigned, self.firm_id, p.collab)
        for slot, wanted in ((Slot.ACHAT, p.achat), (Slot.VENTE, p.vente), (Slot.CAISSE, p.caisse)):
            if wanted:
                self._add(
                    SQL(
                        "c.id {} (SELECT client_id FROM {} WHERE firm_id = %s AND slot = %s)"
                    ).format(SQL("NOT IN" if wanted == "non" else "IN"), EQUIPMENT),
                    self.firm_id,
                    str(slot),
                )
        if p.solution:
            self._add(
                SQL(
                    "c.id IN (SELECT client_id FROM {} WHERE firm_id = %s AND solution_id = %s)"
                ).format(EQUIPMENT),
                self.firm_id,
                self.solution_id or 0,
            )
        if p.shine:
            self._add(SQL("c.shine_status = %s"), "" if p.shine == "aucun" else p.shine)
        if p.mandat == "non_signe":
            self._add(SQL("c.mandate_status <> %s"), str(MandateStatus.SIGNED))
        elif p.mandat:
            self._add(SQL("c.mandate_status = %s"), "" if p.mandat == "aucun" else p.mandat)
        if p.pa == "non_inscrit":
            self._add(SQL("c.pa_status <> %s"), str(PaStatus.REGISTERED))
        elif p.pa:
            self._add(SQL("c.pa_status = %s"), p.pa)
        if p.sensi:
            self._add(SQL("c.sensitised = %s"), p.sensi == "oui")
        if p.facturation:
            # Equipped to issue e-invoices: the rule lives in vigie.reform.rules.
            rule, args = equipped_sql(self.firm_id)
            rule = SQL(rule)
            self._add(rule if p.facturation == "oui" else SQL("NOT {}").format(rule), *args)
        if p.registres:
            condition, args = registers.status_condition(p.registres, self.firm_id)
            self._add(condition, *args)
        if p.constat:
            condition, args = registers.kind_condition(p.constat, self.firm_id)
            self._add(condition, *args)
        if p.campagne:
            # The campaign page's counts are this condition's (vigie.campaigns.funnel).
            condition, args = campaigns.portfolio_condition(self.firm_id, p.campagne, p.etape)
            self._add(condition, *args)

    def _search(self) -> None:
        words = search_terms(self.params.q)
        if not words:
            return
        long_words = [w for w in words if len(w) >= 3]
        self.text_search = True
        if not long_words:
            # Too short for trigrams: a prefix of the name or of the code (index ranges).
            # Written as two branches (UNION), each a range of one index: an `OR` made
            # PostgreSQL read every row of the firm.
            prefix = " ".join(words)
            self.branches = [
                (SQL("c.sort_name >= %s AND c.sort_name < %s"), [prefix, prefix + MAX_CODE_POINT]),
                (
                    SQL("c.code >= %s AND c.code < %s"),
                    [prefix.upper(), prefix.upper() + MAX_CODE_POINT],
                ),
            ]
            return
        self._document_search(words, long_words)

    def _document_search(self, words: list[str], long_words: list[str]) -> None:
        """The clients whose search document (vigie.clients.searchdoc) holds
        every word, through its index of the firm's trigrams. An array of their ids,
        computed first: the clients are then read by primary key (as `IN (…)`, PostgreSQL
        hashed them against a scan of every client of the firm)."""
        keys = searchdoc.query_keys(self.firm_id, long_words)
        if keys:
            # Every key carries the firm: only the firm's index entries answer.
            among, args = SQL("{} @> %s::text[]").format(DOCUMENT_KEYS), [keys]
        else:
            # No word has three ASCII letters or digits in a row: the firm's documents.
            among = SQL("client_id = ANY(ARRAY(SELECT id FROM {} WHERE firm_id = %s))")
            among, args = among.format(CLIENTS), [self.firm_id]
        conditions = [among]
        for word in words:
            conditions.append(SQL("doc LIKE %s ESCAPE '\\'"))
            args.append(f"%{_like_escape(word)}%")
        self._add(
            SQL("c.id = ANY(ARRAY(SELECT client_id FROM {} WHERE {}))").format(
                DOCUMENTS, SQL(" AND ").join(conditions)
            ),
            *args,
        )
        if len(words) > 1:
            # Several words may sit in different parts of a document (one in the client's
            # name, one in a contact's): the rule stays « all in the client, or all in one
            # of its contacts », checked on the few clients whose document has them all.
            def each(alias: str) -> sql.Composable:
                return SQL(" AND ").join(
                    [SQL("{}.search_text LIKE %s ESCAPE '\\'").format(sql.Identifier(alias))]
                    * len(words)
                )

            patterns = [f"%{_like_escape(word)}%" for word in words]
            self._add(
                SQL(
                    "(({}) OR EXISTS (SELECT 1 FROM {} k "
                    "WHERE k.firm_id = c.firm_id AND k.client_id = c.id AND {}))"
                ).format(each("c"), CONTACTS, each("k")),
                *patterns,
                *patterns,
            )

    # -- statements --------------------------------------------------------------------
    def _order(self, alias: str, key: str, *, reverse: bool = False) -> sql.Composable:
        direction = SQL(" DESC" if self.params.descending != reverse else "")
        alias_, key_ = sql.Identifier(alias), sql.Identifier(key)
        return SQL("{}.{}{}, {}.id{}").format(alias_, key_, direction, alias_, direction)

    @property
    def _sort_column(self) -> sql.Identifier:
        return sql.Identifier(SORTS[self.params.sort_key])

    def matches_sql(self, columns: sql.Composable = IDS) -> tuple[sql.Composable, list]:
        """`SELECT <columns>` of the matching clients (a UNION when there are branches)."""
        where = SQL(" AND ").join(self.where)
        base = SQL("SELECT {} FROM {} c WHERE {}").format(columns, CLIENTS, where)
        if not self.branches:
            return base, list(self.args)
        parts, args = [], []
        for condition, branch_args in self.branches:
            parts.append(SQL("{} AND {}").format(base, condition))
            args += [*self.args, *branch_args]
        return SQL(" UNION ").join(parts), args

    def _keyed(self) -> tuple[sql.Composable, list]:
        """The matching clients' ids with their sort value, as `id, k`."""
        return self.matches_sql(SQL("c.id, c.{} AS k").format(self._sort_column))

    def count(self) -> int:
        if len(self.where) == 2 and not self.branches:
            # No filter, no search: the firm's count kept by triggers (vigie.clients.counts).
            if self.active_clients is not None:
                return self.active_clients
            return active_clients(self.firm_id)
        if self.branches:
            matches, args = self.matches_sql()
            statement = SQL("SELECT COUNT(*) FROM ({}) u").format(matches)
        else:
            statement, args = self.matches_sql(SQL("COUNT(*)"))
        with connection.cursor() as cursor:
            cursor.execute(statement, args)
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
        statement, args = self._keyed()
        if self.branches:
            statement = SQL("SELECT u.id, u.k FROM ({}) u ORDER BY {}").format(
                statement, self._order("u", "k", reverse=reverse)
            )
        else:
            order = self._order("c", SORTS[self.params.sort_key], reverse=reverse)
            statement = SQL("{} ORDER BY {}").format(statement, order)
        return SQL("{} LIMIT %s OFFSET %s").format(statement), [*args, limit, offset], reverse

    def ids(self, *, offset: int, limit: int, total: int | None = None) -> list[int]:
        """One page of ids (see `_ordered`)."""
        page = self._ordered(offset=offset, limit=limit, total=total)
        if page is None:
            return []
        statement, args, reverse = page
        with connection.cursor() as cursor:
            cursor.execute(statement, args)
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
        statement, args, _reverse = page
        with connection.cursor() as cursor:
            cursor.execute(
                SQL(
                    "SELECT p.id, v.version FROM ({}) p "
                    "LEFT JOIN {} v ON v.client_id = p.id AND v.firm_id = %s ORDER BY {}"
                ).format(statement, VERSIONS, self._order("p", "k")),
                [*args, self.firm_id],
            )
            return cursor.fetchall()

    def _search_page_ids(self, page: int, per_page: int) -> tuple[int, int, list[int], dict]:
        """A text search in one statement: its matches (a few thousand at most for a
        common surname, found through the trigram indexes) are collected once, then
        counted and sorted; the offset is clamped to the last page in SQL."""
        offset = (page - 1) * per_page
        matches, args = self._keyed()
        statement = SQL(
            "WITH m AS MATERIALIZED ({}), t AS (SELECT COUNT(*) AS n FROM m) "
            "SELECT p.id, v.version, p.n FROM (SELECT m.id, m.k, t.n FROM m CROSS JOIN t "
            "ORDER BY {} LIMIT %s OFFSET (SELECT CASE WHEN n = 0 OR %s < n THEN %s "
            "ELSE (n - 1) / %s * %s END FROM t)) p "
            "LEFT JOIN {} v ON v.client_id = p.id AND v.firm_id = %s ORDER BY {}"
        ).format(matches, self._order("m", "k"), VERSIONS, self._order("p", "k"))
        with connection.cursor() as cursor:
            cursor.execute(
                statement, [*args, per_page, offset, offset, per_page, per_page, self.firm_id]
            )
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

    @staticmethod
    def firm_state(firm_id: int) -> tuple[int | None, int | None]:
        """(active clients, directory version) of the firm: an unfiltered page's count,
        and the key of its lookups (`Lookups.for_firm`), in one statement (its ORM form
        cost a millisecond more on every page, docs/SIMPLIFY.md)."""
        with connection.cursor() as cursor:
            cursor.execute(FIRM_STATE, [firm_id, firm_id])
            return cursor.fetchone()


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
        active, version = PortfolioQuery.firm_state(firm.id)
        if version is None:  # a firm written while the triggers were off: nothing kept
            return replace(cls.read(firm), active_clients=active_clients(firm.id))
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
        "registers",
        "registers_at",
    )

    def __init__(self, client: ClientRow, shine_mode: str = "", checks: str | None = None):
        self.client = client
        # The billing mode of the activated Shine invitation (« Cabinet »: the firm bills the client).
        self.shine_mode = shine_mode
        # Its register checks, `<register> <status> <epoch> …` (ROWS): [(register, status)]
        # and when the last one was tried.
        words = (checks or "").split()
        self.registers: list[tuple[str, str]] = list(zip(words[::3], words[1::3], strict=True))
        self.registers_at = (
            datetime.fromtimestamp(max(map(int, words[2::3])), UTC) if words else None
        )
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
    def register_status(self) -> str:
        """The client's status in the public registers (vigie.registries.rules)."""
        return registers.client_status(status for _register, status in self.registers)

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


LEGAL_FORM_LABELS = dict(LegalForm.choices)
SHINE_LABELS = dict(ShineStatus.choices)


class ClientRow:
    """A client as the list shows it: the columns of CLIENT_FIELDS, without a model
    instance (building 100 instances cost more than the statement that reads them)."""

    __slots__ = CLIENT_FIELDS

    def __init__(self, values):
        for name, value in zip(CLIENT_FIELDS, values, strict=True):
            setattr(self, name, value)

    def get_legal_form_display(self) -> str:
        return LEGAL_FORM_LABELS.get(self.legal_form, self.legal_form)

    def get_shine_status_display(self) -> str:
        return SHINE_LABELS.get(self.shine_status, self.shine_status)


# The clients of a page and what their rows show, in two hand-written statements: through
# the ORM (one query per table, model fields resolved each time) the same reads cost 4.6 ms
# of CPU for 10 rows against 0.9 ms, 7.5 ms against 2.9 ms for 100 (docs/SIMPLIFY.md): each
# page the rows cache misses, and every page with the cache off. With each client, its
# register checks (at most two, through their (client, register) index) as one text
# column, `<register> <status> <epoch of the try>` each: for 100 rows it adds 0.15 ms of
# CPU where an array and a timestamp per row added 0.9 ms (psycopg's loaders).
ROWS = SQL(
    "SELECT {}, (SELECT i.billing_mode FROM {} i WHERE i.firm_id = c.firm_id "
    "AND i.client_id = c.id AND i.status = %s ORDER BY i.activated_at DESC, i.id DESC LIMIT 1), "
    "(SELECT string_agg(r.register || ' ' || r.status || ' ' "
    "|| floor(extract(epoch FROM r.attempted_at))::bigint, ' ' ORDER BY r.register) "
    "FROM {} r WHERE r.firm_id = c.firm_id AND r.client_id = c.id) "
    "FROM {} c WHERE c.firm_id = %s AND c.id = ANY(%s)"
).format(
    SQL(", ").join(
        SQL("c.{}").format(sql.Identifier(Client._meta.get_field(name).column))
        for name in CLIENT_FIELDS
    ),
    sql.Identifier(Invitation._meta.db_table),
    sql.Identifier(RegisterCheck._meta.db_table),
    CLIENTS,
)
# Equipment, contacts and collaborators of clients already checked to be the firm's, looked
# up by client (their client_id indexes). The equipment first: PostgreSQL types each column
# of a UNION from its first branch (created_at must not meet two NULLs typed as text).
DETAILS = SQL(
    "SELECT 'e', client_id, NULL, slot, plan, NULL, solution_id, created_at, id "
    "FROM {} WHERE client_id = ANY(%s) "
    "UNION ALL SELECT 'c', client_id, is_principal, first_name, last_name, email, "
    "NULL, NULL, id FROM {} WHERE client_id = ANY(%s) "
    "UNION ALL SELECT 'a', client_id, NULL, NULL, NULL, NULL, user_id, NULL, id "
    "FROM {} WHERE client_id = ANY(%s)"
).format(EQUIPMENT, CONTACTS, ASSIGNMENTS)


def load_rows(firm, ids: list[int], lookups: Lookups) -> list[Row]:
    """The rows of `ids` that are the firm's, in that order, with their contacts,
    collaborators and equipment: two statements whatever the number of ids (an array
    parameter: the same statement text for every page). Labels come from `lookups`.
    Called for the rows the `rows` cache misses, and by the exports."""
    if not ids:
        return []
    rows: dict[int, Row] = {}
    with connection.cursor() as cursor:
        cursor.execute(ROWS, [str(Status.ACTIVATED), firm.id, list(ids)])
        for *values, shine_mode, checks in cursor.fetchall():
            client = ClientRow(values)
            rows[client.id] = Row(client, shine_mode or "", checks)
        if not rows:
            return []
        cursor.execute(DETAILS, [list(rows)] * 3)
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
        (d for d in details if d[0] == "e"), key=lambda d: (d[7], d[8])
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


def query_for(firm, user, data) -> tuple[PortfolioQuery, Lookups]:
    """The portfolio's query for `data` (the page's URL parameters, or a selection's
    saved `query`), checked against this firm's own choices, and the firm's lookups."""
    params = Params.from_query(data)
    lookups = Lookups.for_firm(firm)
    if params.collab and params.collab not in lookups.users:
        params = replace(params, collab=None)
    solution_id = next(
        (s.id for s in lookups.solutions.values() if s.slug == params.solution), None
    )
    if params.solution and solution_id is None:
        params = replace(params, solution="")
    query = PortfolioQuery(
        firm_id=firm.id,
        params=params,
        user_id=user.id,
        solution_id=solution_id,
        active_clients=lookups.active_clients,
    )
    return query, lookups

"""The reform dashboard's figures: a few aggregate queries, never a loop over clients.

- `firm_figures`: one query over the firm's active clients (conditional counts).
- `collaborator_figures`: one query over the assignments, grouped by collaborator.
- `weekly_progress`: one grouped query over the history (ClientEvent) of the last
  weeks, read backwards from today's counts: the value at the end of a week is the
  current count minus the net changes recorded after that week.
- `register_figures`: one statement counting the clients of each kind of register
  finding (vigie.registries.rules, the conditions the portfolio filters with), and the
  firm's latest check run with its progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from psycopg import sql

from vigie.accounts.models import User
from vigie.clients.models import Client, ClientAssignment, ClientEvent, MandateStatus, PaStatus
from vigie.reform.rules import equipped_q
from vigie.registries import rules as registers
from vigie.registries.models import UNDER_WAY, CheckRun, CheckStatus, ItemState, RunState

ISSUANCE_DEADLINE = date(2027, 9, 1)
RECEPTION_DATE = date(2026, 9, 1)

# (key, label, portfolio filter listing the clients counted (done), the one listing the
# clients still to act on (to do)). Each figure links to exactly the clients it counts.
MEASURES = [
    ("sensitised", "Sensibilisés à la réforme", {"sensi": "oui"}, {"sensi": "non"}),
    ("mandate", "Mandat signé", {"mandat": "signe"}, {"mandat": "non_signe"}),
    ("pa", "Inscrits auprès d'une PA", {"pa": "inscrit"}, {"pa": "non_inscrit"}),
    (
        "equipped",
        "Équipés d'une app de facturation électronique",
        {"facturation": "oui"},
        {"facturation": "non"},
    ),
]

# Chart lines: (key, label, kinds that add one, kinds that remove one).
CHART_SERIES = [
    ("sensitised", "Sensibilisés", ("reform.sensitised",), ("reform.unsensitised",)),
    ("mandate", "Mandats signés", ("reform.mandate_signed",), ("reform.mandate_revoked",)),
    ("pa", "Inscrits PA", ("reform.pa_registered",), ("reform.pa_unregistered",)),
]


def _counts(firm, prefix: str = "") -> dict:
    p = prefix
    equipped = equipped_q("pk" if not p else "client_id", firm_id=firm.id)
    return {
        "sensitised": Count("id", filter=Q(**{f"{p}sensitised": True})),
        "mandate": Count("id", filter=Q(**{f"{p}mandate_status": MandateStatus.SIGNED})),
        "pa": Count("id", filter=Q(**{f"{p}pa_status": PaStatus.REGISTERED})),
        "equipped": Count("id", filter=equipped),
    }


@dataclass
class Figure:
    key: str
    label: str
    done: int
    total: int
    done_query: dict
    todo_query: dict

    @property
    def todo(self) -> int:
        return self.total - self.done

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _figures(row: dict) -> list[Figure]:
    total = row.get("total") or 0
    return [
        Figure(key, label, row.get(key) or 0, total, dict(done), dict(todo))
        for key, label, done, todo in MEASURES
    ]


def firm_figures(firm) -> list[Figure]:
    row = Client.objects.for_firm(firm).active().aggregate(total=Count("id"), **_counts(firm))
    return _figures(row)


@dataclass
class CollaboratorFigures:
    user: User
    total: int
    figures: list[Figure]


def collaborator_figures(firm) -> list[CollaboratorFigures]:
    """Every collaborator of the firm with the figures of the clients assigned to them."""
    # `client__firm` as well as the assignment's own firm: without it a large firm's
    # join hashes every firm's clients (a scan of the whole table).
    rows = (
        ClientAssignment.objects.filter(firm=firm, client__firm=firm, client__archived_at=None)
        .values("user_id")
        .annotate(total=Count("id"), **_counts(firm, "client__"))
        .order_by()
    )
    by_user = {row["user_id"]: row for row in rows}
    users = User.objects.filter(membership__firm=firm).order_by("last_name", "first_name", "id")
    return [
        CollaboratorFigures(
            user=user,
            total=by_user.get(user.id, {}).get("total", 0),
            figures=_figures(by_user.get(user.id, {})),
        )
        for user in users
    ]


@dataclass
class Week:
    start: date
    values: dict[str, int]


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_progress(firm, figures: list[Figure], *, weeks: int = 12) -> list[Week]:
    """The count of each chart line at the end of each of the last `weeks` weeks
    (Monday to Sunday), the last one being the current week (today's counts)."""
    today = timezone.localdate()
    first = _week_start(today) - timedelta(weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    sign = {}
    for key, _label, plus, minus in CHART_SERIES:
        sign.update({kind: (key, 1) for kind in plus})
        sign.update({kind: (key, -1) for kind in minus})
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    bounds = [timezone.make_aware(datetime.combine(s, time.min)) for s in starts]
    # One conditional count per week, grouped by kind: plain comparisons on `at`,
    # no per-row date function (SQLite evaluates those in Python).
    buckets = {
        f"w{i}": Count(
            "id",
            filter=Q(at__gte=start, **({"at__lt": bounds[i + 1]} if i + 1 < weeks else {})),
        )
        for i, start in enumerate(bounds)
    }
    rows = (
        ClientEvent.objects.filter(firm=firm, kind__in=list(sign), at__gte=since)
        .values("kind")
        .annotate(**buckets)
        .order_by()
    )
    net: dict[tuple[str, date], int] = {}
    for row in rows:
        key, direction = sign[row["kind"]]
        for i, start in enumerate(starts):
            net[(key, start)] = net.get((key, start), 0) + direction * row[f"w{i}"]
    current = {f.key: f.done for f in figures}
    out = [Week(start=s, values={}) for s in starts]
    for key, *_ in CHART_SERIES:
        value = current.get(key, 0)
        for week in reversed(out):
            week.values[key] = max(0, value)
            value -= net.get((key, week.start), 0)
    return out


def days_left(today: date | None = None) -> int:
    today = today or timezone.localdate()
    return max(0, (ISSUANCE_DEADLINE - today).days)


# --- Registres ---------------------------------------------------------------------------


@dataclass
class RegisterCount:
    """A line of the « Registres » card: how many clients, and the portfolio filter
    listing exactly them."""

    key: str
    label: str
    count: int
    query: dict


@dataclass
class RegisterFigures:
    counts: list[RegisterCount]
    run: CheckRun | None  # the firm's latest run, with `done` (its items done)
    last_check: datetime | None  # the last try of any client's check

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.state in UNDER_WAY

    @property
    def preparing(self) -> bool:
        """Its checks still being written by the worker: no progress in checks yet."""
        return self.run is not None and self.run.state == RunState.PREPARING


def _register_lines() -> list[tuple[str, str, dict]]:
    """(key, label, portfolio filter) of each count: each kind of finding, then the
    clients not verified."""
    lines = [(kind.key, kind.label, {"constat": kind.key}) for kind in registers.KINDS]
    unverified = str(CheckStatus.UNVERIFIED)
    return [*lines, (unverified, "Non vérifiés", {"registres": unverified})]


def register_figures(firm) -> RegisterFigures:
    """The card's counts over the firm's active clients, in one statement whose
    conditions are the portfolio's (vigie.registries.rules): each count is the number of
    clients its link lists."""
    lines = _register_lines()
    filters, args = [], []
    for key, _label, query in lines:
        if "constat" in query:
            condition, condition_args = registers.kind_condition(key, firm.id)
        else:
            condition, condition_args = registers.status_condition(query["registres"], firm.id)
        filters.append(sql.SQL("COUNT(*) FILTER (WHERE {})").format(condition))
        args += condition_args
    statement = sql.SQL(
        "SELECT {}, (SELECT MAX(attempted_at) FROM {} WHERE firm_id = %s) "
        "FROM {} c WHERE c.firm_id = %s AND c.archived_at IS NULL"
    ).format(
        sql.SQL(", ").join(filters),
        registers.CHECKS,
        sql.Identifier(Client._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*args, firm.id, firm.id])
        *counts, last_check = cursor.fetchone()
    run = (
        CheckRun.objects.for_firm(firm)
        .annotate(pending=Count("items", filter=Q(items__state=ItemState.PENDING)))
        .order_by("-created_at", "-id")
        .first()
    )
    if run is not None:
        run.done = run.total - run.pending
    return RegisterFigures(
        counts=[
            RegisterCount(key, label, count, dict(query))
            for (key, label, query), count in zip(lines, counts, strict=True)
        ],
        run=run,
        last_check=last_check,
    )

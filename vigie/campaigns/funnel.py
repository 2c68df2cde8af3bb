"""A campaign's funnel: which of its clients reached which stage, as SQL over the
portfolio's alias `c` (clients_client).

One condition per stage, written once and read three ways: the portfolio's filter
`campagne=<public id>&etape=<stage>` (vigie.clients.portfolio.query), the campaign page's
counts (`COUNT(*) FILTER (WHERE <the same condition>)` over the same rows: the firm's
active clients), and the export's columns. So a count is always the length of the list
it opens.

The stages, each among the clients the campaign e-mailed except the first:

- ciblés: every client of the campaign;
- envoyés: its e-mail queued in the outbox;
- ouverts: the e-mail's link followed by someone, on a human signal (never a bare GET,
  which a link-scanning mail filter sends too): the target's own `opened_at` (the
  personal link of a sensibilisation or Shine e-mail, vigie.campaigns.tracking), or the
  campaign's mandate *ouvert* (its signing page) — and whoever reached the goal through
  that link without being seen opening it: a mandate signed, a Shine account activated;
- signés (mandate) / activés (Shine): the campaign's mandate signed, its invitation's
  Shine account activated;
- inscrits à une PA: the client's *Inscription PA* says *Inscrit*;
- prêts: *équipé* by the reform's rule (vigie.reform.rules).

Besides them: à relancer (e-mailed, not at the campaign's goal — signed, activated, or for
a sensibilisation registered with a PA — with no reminder under way nor sent within
REMIND_COOLDOWN), en attente, bloqués, échecs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.utils import timezone
from psycopg import sql

from vigie.accounts.models import User
from vigie.campaigns.models import Campaign, Kind, Target, TargetStatus
from vigie.clients.models import Client, ClientAssignment, PaStatus
from vigie.invitations.models import Invitation
from vigie.invitations.models import Status as InvitationStatus
from vigie.reform.models import Mandate, MandateState
from vigie.reform.rules import equipped_sql

SQL = sql.SQL
CLIENTS = sql.Identifier(Client._meta.db_table)
TARGETS = sql.Identifier(Target._meta.db_table)
MANDATES = sql.Identifier(Mandate._meta.db_table)
INVITATIONS = sql.Identifier(Invitation._meta.db_table)
ASSIGNMENTS = sql.Identifier(ClientAssignment._meta.db_table)
# The portfolio's own first conditions (vigie.clients.portfolio.query.PortfolioQuery).
BASE = SQL("c.firm_id = %s AND c.archived_at IS NULL")

# A client reminded less than this long ago is not « à relancer » again.
REMIND_COOLDOWN = timedelta(hours=24)


class Stage(NamedTuple):
    key: str  # the portfolio's `etape`
    label: str


CIBLES = Stage("cibles", "Ciblés")
ENVOYES = Stage("envoyes", "Envoyés")
OUVERTS = Stage("ouverts", "Ouverts")
SIGNES = Stage("signes", "Signés")
ACTIVES = Stage("actives", "Activés")
INSCRITS = Stage("inscrits", "Inscrits à une PA")
PRETS = Stage("prets", "Prêts")
A_RELANCER = Stage("a_relancer", "À relancer")
EN_ATTENTE = Stage("en_attente", "En attente d'envoi")
BLOQUES = Stage("bloques", "Bloqués")
ECHECS = Stage("echecs", "Échecs d'envoi")

# The funnel of each kind, in order, each stage with whether it is measured for that kind.
FUNNELS: dict[str, list[tuple[Stage, bool]]] = {
    Kind.SENSITISATION: [
        (CIBLES, True),
        (ENVOYES, True),
        (OUVERTS, True),
        (INSCRITS, True),
        (PRETS, True),
    ],
    Kind.MANDATE: [
        (CIBLES, True),
        (ENVOYES, True),
        (OUVERTS, True),
        (SIGNES, True),
        (INSCRITS, True),
        (PRETS, True),
    ],
    Kind.SHINE: [
        (CIBLES, True),
        (ENVOYES, True),
        (OUVERTS, True),
        (ACTIVES, True),
        (INSCRITS, True),
        (PRETS, True),
    ],
}
# What a client of the campaign answers by reaching: the others are « à relancer ».
GOALS = {Kind.SENSITISATION: INSCRITS, Kind.MANDATE: SIGNES, Kind.SHINE: ACTIVES}
EXTRAS = [A_RELANCER, EN_ATTENTE, BLOQUES, ECHECS]
STAGE_KEYS = tuple(
    {stage.key for stages in FUNNELS.values() for stage, _ in stages} | {s.key for s in EXTRAS}
)
# Reminders check the goal without the cooldown (it was checked when they were asked for).
NO_ANSWER = "sans_reponse"


def measured(kind: str) -> list[Stage]:
    """The stages counted for a campaign of `kind`, then the extras."""
    return [stage for stage, on in FUNNELS[kind] if on] + EXTRAS


def stage_label(kind: str, key: str) -> str:
    return next((s.label for s in measured(kind) if s.key == key), "")


@dataclass(frozen=True)
class Scope:
    """The campaign a condition is about."""

    firm_id: int
    campaign_id: int
    kind: str

    @classmethod
    def of(cls, campaign: Campaign) -> Scope:
        return cls(campaign.firm_id, campaign.pk, campaign.kind)


def _targets(
    scope: Scope, condition: sql.Composable | None = None, *args
) -> tuple[sql.Composable, list]:
    """The clients (`c`) with a target of the campaign for which `condition` holds (`t`)."""
    where = SQL("t.firm_id = %s AND t.campaign_id = %s")
    if condition is not None:
        where = SQL("{} AND {}").format(where, condition)
    return (
        SQL("c.id IN (SELECT t.client_id FROM {} t WHERE {})").format(TARGETS, where),
        [scope.firm_id, scope.campaign_id, *args],
    )


def _and(*parts: tuple[sql.Composable, list]) -> tuple[sql.Composable, list]:
    return (
        SQL("({})").format(SQL(" AND ").join(p[0] for p in parts)),
        [a for p in parts for a in p[1]],
    )


def _not(part: tuple[sql.Composable, list]) -> tuple[sql.Composable, list]:
    return SQL("NOT ({})").format(part[0]), part[1]


SENT = SQL("t.sent_at IS NOT NULL")
MANDATE_IN = SQL("t.mandate_id IN (SELECT m.id FROM {} m WHERE m.firm_id = %s AND {})")
ACTIVATED = SQL(
    "t.invitation_id IN (SELECT i.id FROM {} i WHERE i.firm_id = %s AND i.status = %s)"
).format(INVITATIONS)


def condition(scope: Scope, key: str, *, now: datetime | None = None):
    """SQL true of the campaign's clients (`c`) at stage `key`, with its arguments."""
    if key == CIBLES.key:
        return _targets(scope)
    if key == ENVOYES.key:
        return _targets(scope, SENT)
    if key == OUVERTS.key:
        opened, args = SQL("t.opened_at IS NOT NULL"), []
        if scope.kind == Kind.MANDATE:
            by_link = MANDATE_IN.format(MANDATES, SQL("(m.opened_at IS NOT NULL OR m.state = %s)"))
            args = [scope.firm_id, str(MandateState.SIGNED)]
        elif scope.kind == Kind.SHINE:
            by_link, args = ACTIVATED, [scope.firm_id, str(InvitationStatus.ACTIVATED)]
        if args:
            opened = SQL("({} OR {})").format(opened, by_link)
        return _targets(scope, SQL("{} AND {}").format(SENT, opened), *args)
    if key == SIGNES.key and scope.kind == Kind.MANDATE:
        return _targets(
            scope,
            SQL("{} AND {}").format(SENT, MANDATE_IN.format(MANDATES, SQL("m.state = %s"))),
            scope.firm_id,
            str(MandateState.SIGNED),
        )
    if key == ACTIVES.key and scope.kind == Kind.SHINE:
        return _targets(
            scope,
            SQL("{} AND {}").format(SENT, ACTIVATED),
            scope.firm_id,
            str(InvitationStatus.ACTIVATED),
        )
    if key == INSCRITS.key:
        return _and(_targets(scope, SENT), (SQL("c.pa_status = %s"), [str(PaStatus.REGISTERED)]))
    if key == PRETS.key:
        rule, args = equipped_sql(scope.firm_id)
        return _and(_targets(scope, SENT), (SQL(rule), args))
    if key == NO_ANSWER:
        return _and(_targets(scope, SENT), _not(condition(scope, GOALS[scope.kind].key)))
    if key == A_RELANCER.key:
        cutoff = (now or timezone.now()) - REMIND_COOLDOWN
        return _and(
            _targets(
                scope,
                SQL(
                    "{} AND t.remind_round <= t.reminded_round "
                    "AND (t.reminded_at IS NULL OR t.reminded_at < %s)"
                ).format(SENT),
                cutoff,
            ),
            _not(condition(scope, GOALS[scope.kind].key)),
        )
    status = {
        EN_ATTENTE.key: TargetStatus.PENDING,
        BLOQUES.key: TargetStatus.BLOCKED,
        ECHECS.key: TargetStatus.FAILED,
    }.get(key)
    if status is not None:
        return _targets(scope, SQL("t.status = %s"), str(status))
    return SQL("FALSE"), []  # a stage this kind does not measure: nobody


# --- The portfolio's filter ------------------------------------------------------------


def parse_public_id(value: str | None) -> str:
    """The `campagne` parameter as a canonical UUID, or "" when it is not one."""
    try:
        return str(uuid.UUID(str(value or "")[:36]))
    except ValueError:
        return ""


def campaign_for_filter(firm_id: int, public_id: str) -> Campaign | None:
    """The firm's campaign named by the portfolio's `campagne` (another firm's: None)."""
    if not public_id:
        return None
    return Campaign.objects.filter(firm_id=firm_id, public_id=public_id).first()


def portfolio_condition(firm_id: int, public_id: str, stage: str):
    """The portfolio's `campagne`/`etape` filter: the firm's campaign's clients at that
    stage (every client of it without a stage); nobody for a campaign the firm does not
    have."""
    campaign = campaign_for_filter(firm_id, public_id)
    if campaign is None:
        return SQL("FALSE"), []
    return condition(Scope.of(campaign), stage or CIBLES.key)


# --- Counts ----------------------------------------------------------------------------


def _run(statement: sql.Composable, args: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, args)
        return cursor.fetchall()


def counts(campaign: Campaign, *, now: datetime | None = None) -> dict[str, int]:
    """{stage key: clients} of every stage measured for the campaign, in one statement
    over the portfolio's rows (the firm's active clients)."""
    scope = Scope.of(campaign)
    keys = [s.key for s in measured(campaign.kind)]
    parts = [condition(scope, key, now=now) for key in keys]
    base, base_args = condition(scope, CIBLES.key)
    statement = SQL("SELECT {} FROM {} c WHERE {} AND {}").format(
        SQL(", ").join(SQL("COUNT(*) FILTER (WHERE {})").format(p[0]) for p in parts),
        CLIENTS,
        BASE,
        base,
    )
    args = [a for p in parts for a in p[1]] + [campaign.firm_id, *base_args]
    (row,) = _run(statement, args)
    return dict(zip(keys, row, strict=True))


def counts_by_collaborator(
    campaign: Campaign, *, now: datetime | None = None
) -> list[tuple[User, dict[str, int]]]:
    """The same counts for the clients assigned to each collaborator of the firm (the
    portfolio's `collab` filter), collaborators with none of the campaign's clients left
    out, by name."""
    scope = Scope.of(campaign)
    keys = [s.key for s in measured(campaign.kind)]
    parts = [condition(scope, key, now=now) for key in keys]
    base, base_args = condition(scope, CIBLES.key)
    statement = SQL(
        "SELECT a.user_id, {} FROM {} c JOIN {} a ON a.client_id = c.id AND a.firm_id = %s "
        "WHERE {} AND {} GROUP BY a.user_id"
    ).format(
        SQL(", ").join(SQL("COUNT(*) FILTER (WHERE {})").format(p[0]) for p in parts),
        CLIENTS,
        ASSIGNMENTS,
        BASE,
        base,
    )
    args = [a for p in parts for a in p[1]]
    args += [campaign.firm_id, campaign.firm_id, *base_args]
    rows = {
        user_id: dict(zip(keys, values, strict=True)) for user_id, *values in _run(statement, args)
    }
    users = User.objects.filter(membership__firm_id=campaign.firm_id, id__in=list(rows)).order_by(
        "last_name", "first_name", "id"
    )
    return [(user, rows[user.id]) for user in users]


def matching_ids(
    campaign: Campaign, key: str, *, ids: list[int] | None = None, now: datetime | None = None
) -> set[int]:
    """The ids of the campaign's clients at stage `key` (among `ids` when given)."""
    part, args = condition(Scope.of(campaign), key, now=now)
    statement = SQL("SELECT c.id FROM {} c WHERE {} AND {}").format(CLIENTS, BASE, part)
    args = [campaign.firm_id, *args]
    if ids is not None:
        statement = SQL("{} AND c.id = ANY(%s)").format(statement)
        args.append(list(ids))
    return {row[0] for row in _run(statement, args)}


def flags(campaign: Campaign, *, now: datetime | None = None) -> dict[int, dict[str, bool]]:
    """{client id: {stage key: reached}} of each of the campaign's clients (the export)."""
    scope = Scope.of(campaign)
    keys = [s.key for s in measured(campaign.kind)]
    parts = [condition(scope, key, now=now) for key in keys]
    base, base_args = condition(scope, CIBLES.key)
    statement = SQL("SELECT c.id, {} FROM {} c WHERE {} AND {}").format(
        SQL(", ").join(SQL("({})").format(p[0]) for p in parts), CLIENTS, BASE, base
    )
    args = [a for p in parts for a in p[1]] + [campaign.firm_id, *base_args]
    return {pk: dict(zip(keys, values, strict=True)) for pk, *values in _run(statement, args)}

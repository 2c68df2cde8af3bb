"""A client's standing in the public registers, for the worklist: one rule, written once,
read by the portfolio (its « Registres » filter and column), the reform dashboard (its
counts) and the exports.

**The client's status** is the first of `PRIORITY` that one of its checks
(`RegisterCheck`, one per register) has:

1. « cessée » if either register says so (the company or the establishment closed);
2. « écart » if either register found a difference;
3. « à jour » if a register answered without a difference;
4. « non vérifié » otherwise: no check yet, or only checks that could not be made.

So a client whose company register is « à jour » and whose directory could not be read is
« à jour » (its title names each register's status); one register's « écart » or
« cessée » always shows.

**A finding kind** (`KINDS`, the dashboard's counts and the portfolio's `constat`
parameter) is a group of finding codes (vigie.registries.services): a client is of that
kind when one of its checks holds one of them, whatever its status.

The portfolio filters in SQL (`status_condition`, `kind_condition`) and labels its rows in
Python (`client_status`), both from `PRIORITY` and `KINDS`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import NamedTuple

from psycopg import sql

from vigie.registries.models import CheckStatus, RegisterCheck

PRIORITY = (CheckStatus.CEASED, CheckStatus.DRIFT, CheckStatus.UP_TO_DATE, CheckStatus.UNVERIFIED)
STATUSES = tuple(str(s) for s in PRIORITY)
STATUS_LABELS = {str(s): s.label for s in PRIORITY}
# Badge classes of templates/jinja2/clients/portfolio_row.html (static/css/vigie.css).
STATUS_BADGES = {"a_jour": "ok", "ecart": "warn", "cessee": "err", "non_verifie": ""}


class Kind(NamedTuple):
    """A line of the dashboard's « Registres » card."""

    key: str  # the portfolio's `constat` parameter
    label: str
    codes: tuple[str, ...]


KINDS = (
    Kind("cessee", "Entreprise ou établissement cessé", ("ceased", "establishment_closed")),
    Kind("siege", "SIRET qui n'est plus le siège", ("not_head_office",)),
    Kind("identite", "Nom, forme juridique ou APE différents", ("name", "legal_form", "ape")),
    Kind("sans_ligne", "Sans ligne d'annuaire", ("no_line",)),
    Kind("inscription", "Inscrit à une PA, fiche « non inscrit »", ("pa_status",)),
    Kind("plateforme", "Inscrit auprès d'une autre plateforme", ("platform",)),
    Kind("date_future", "Date d'effet future", ("future_date",)),
    Kind("niveau_siren", "Ligne au niveau SIREN", ("siren_level",)),
    Kind("ligne_modifiee", "Ligne modifiée depuis le dernier contrôle", ("line_changed",)),
)
KIND_KEYS = tuple(k.key for k in KINDS)
KINDS_BY_KEY = {k.key: k for k in KINDS}


def client_status(statuses: Iterable[str]) -> str:
    """The client's status from its checks' statuses (none: « non vérifié »)."""
    found = set(statuses)
    return next((s for s in STATUSES if s in found), str(CheckStatus.UNVERIFIED))


CHECKS = sql.Identifier(RegisterCheck._meta.db_table)


def status_condition(status: str, firm_id: int) -> tuple[sql.Composable, list]:
    """SQL true of the firm's clients (`c`) of that status, with its arguments: a check of
    that status and none of a status before it in PRIORITY."""
    before = list(STATUSES[: STATUSES.index(status)])
    parts, args = [], []
    if status != CheckStatus.UNVERIFIED:
        parts.append(
            sql.SQL("c.id IN (SELECT client_id FROM {} WHERE firm_id = %s AND status = %s)").format(
                CHECKS
            )
        )
        args += [firm_id, status]
    if before:
        parts.append(
            sql.SQL(
                "c.id NOT IN (SELECT client_id FROM {} WHERE firm_id = %s AND status = ANY(%s))"
            ).format(CHECKS)
        )
        args += [firm_id, before]
    return sql.SQL(" AND ").join(parts), args


def kind_condition(key: str, firm_id: int) -> tuple[sql.Composable, list]:
    """SQL true of the firm's clients (`c`) with a finding of that kind."""
    codes = KINDS_BY_KEY[key].codes
    contains = sql.SQL(" OR ").join([sql.SQL("findings @> %s::jsonb")] * len(codes))
    return (
        sql.SQL("c.id IN (SELECT client_id FROM {} WHERE firm_id = %s AND ({}))").format(
            CHECKS, contains
        ),
        [firm_id, *(json.dumps([{"code": code}]) for code in codes)],
    )

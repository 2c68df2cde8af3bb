"""The « Registres » card of the client page: what each register last said of the client,
read from the stored checks (one statement for both registers) — never from a register."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Exists, OuterRef, Q

from vigie.clients.models import Client
from vigie.registries.decisions import ADVICE, takeable
from vigie.registries.models import (
    CheckItem,
    CheckRun,
    CheckStatus,
    ItemState,
    Register,
    RegisterCheck,
    RunState,
)

BADGES = {"a_jour": "ok", "ecart": "warn", "cessee": "err", "non_verifie": ""}
NEVER_CHECKED = "Jamais vérifié."


@dataclass
class Finding:
    code: str
    label: str
    register_value: str
    firm_value: str
    takeable: bool
    advice: str


@dataclass
class RegisterState:
    register: str
    label: str
    status: str
    status_label: str
    badge: str
    reason: str = ""
    checked_at: object = None
    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    values: dict = field(default_factory=dict)


def _state(register: str, check: RegisterCheck | None) -> RegisterState:
    label = Register(register).label
    if check is None:
        status = CheckStatus.UNVERIFIED
        return RegisterState(register, label, status, status.label, "", reason=NEVER_CHECKED)
    status = CheckStatus(check.status)
    return RegisterState(
        register,
        label,
        status,
        status.label,
        BADGES.get(status, ""),
        reason=check.reason,
        checked_at=check.checked_at,
        source=check.source,
        values=check.values or {},
        findings=[
            Finding(
                code=f.get("code", ""),
                label=f.get("label", ""),
                register_value=str(f.get("register", "—")),
                firm_value=str(f.get("firm", "—")),
                takeable=takeable(register, f.get("code", "")),
                advice=ADVICE.get(f.get("code", ""), ""),
            )
            for f in check.findings or []
        ],
    )


class RegistersCard:
    """Both registers' states and whether a check of the client is under way."""

    def __init__(self, client: Client):
        self.client = client

    @cached_property
    def _loaded(self) -> tuple[list[RegisterState], bool, bool]:
        firm_id, pk = self.client.firm_id, self.client.pk
        pending = CheckItem.objects.filter(firm_id=firm_id, client_id=pk, state=ItemState.PENDING)
        # A run whose items are still being written, that will check this client (runs
        # leave the archived clients out).
        covers = Q(client_ids__isnull=True) | Q(client_ids__contains=[pk])
        if self.client.archived_at is not None:
            covers = Q(pk__isnull=True)
        preparing = CheckRun.objects.filter(covers, firm_id=firm_id, state=RunState.PREPARING)
        checks = list(
            RegisterCheck.objects.filter(firm_id=firm_id, client_id=pk)
            .annotate(
                pending=Exists(pending.filter(client_id=OuterRef("client_id"))),
                preparing=Exists(preparing),
            )
            .order_by("register")
        )
        by_register = {c.register: c for c in checks}
        if checks:
            running, prepared = checks[0].pending, checks[0].preparing
        else:  # a client never checked has no row to carry the flags: its own row does
            running, prepared = (
                Client.objects.filter(pk=pk)
                .annotate(pending=Exists(pending), preparing=Exists(preparing))
                .values_list("pending", "preparing")
                .first()
            ) or (False, False)
        states = [_state(r, by_register.get(r)) for r in (Register.SIRENE, Register.ANNUAIRE)]
        return states, running or prepared, prepared and not running

    @property
    def registers(self) -> list[RegisterState]:
        return self._loaded[0]

    @property
    def running(self) -> bool:
        """A check of the client under way, or in preparation."""
        return self._loaded[1]

    @property
    def preparing(self) -> bool:
        """Only a run in preparation (the client's checks not written yet)."""
        return self._loaded[2]

    @property
    def directors(self) -> list[dict]:
        """The company register's directors (the mandate's signatory is one of them)."""
        return [d for d in self.registers[0].values.get("directors") or [] if isinstance(d, dict)]

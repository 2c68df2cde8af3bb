"""Checking a firm's clients against the public registers.

`check_clients` creates a run (one item per client and register) and works through it;
`check_clients_queue` leaves that to the task worker. A run of many clients is created
« en préparation » and its items written by the worker, in chunks, before it checks them
(vigie.registries.preparation). Items are claimed in small batches under a lease, grouped
by SIREN (one directory call covers every establishment of a company; one register call
covers clients sharing a SIRET), and each client's result is written as soon as it is
known, so a worker killed mid-run loses at most its batch's calls and the next one (the
sweeper's, `registries_sweep`) never repeats a finished client. A register that cannot answer is retried (in the call, then at the item's next
attempt) and finally recorded as « non vérifié » with the reason, never « à jour ».
Network calls never run inside a transaction.

A run of many clients (ANNUAIRE_EXPORT_FROM) reads the directory from its CSV export:
downloaded once, its lines for the run's SIRENs held in `ExportedLines` until the run
ends (a worker taking the run over does not download it again), each client checked from
them exactly as from a search. An export that fails leaves the run to the searches.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from vigie.clients.models import Client, LegalForm, PaStatus
from vigie.lib.text import fold
from vigie.lib.validators import is_valid_siret
from vigie.registries import annuaire, decisions, preparation, tasks
from vigie.registries.annuaire import AnnuaireClient, DirectoryLine
from vigie.registries.connectors import company_register
from vigie.registries.http import RegisterRefused, RegisterUnavailable
from vigie.registries.insee import InseeClient
from vigie.registries.models import (
    CheckItem,
    CheckRun,
    CheckStatus,
    DirectoryConnection,
    ExportedLines,
    ExportState,
    ItemState,
    Register,
    RegisterCheck,
    RunState,
)
from vigie.registries.sirene import Company, SireneClient, same_legal_form

log = logging.getLogger(__name__)

RECEPTION_MANDATORY = date(2026, 9, 1)  # every business receives e-invoices from then
BATCH = 50


def _fingerprint(client: Client, register: str) -> str:
    return preparation.fingerprint(
        register, *(getattr(client, field) for field in preparation.FIELDS)
    )


# --- The firm's connection to its platform's directory ----------------------------------


@sensitive_variables("secret")
@transaction.atomic
def directory_connection_save(
    *, firm, actor, base_url: str, token_url: str, client_id: str, secret: str = ""
) -> DirectoryConnection:
    """Create or change the firm's connection (the form has checked it); an empty `secret`
    keeps the saved one. Each save is a new version: a token cached for the previous one
    is never read again."""
    connection = DirectoryConnection.objects.select_for_update().filter(firm=firm).first()
    if connection is None:
        connection = DirectoryConnection(firm=firm, version=0)
    connection.base_url, connection.token_url = base_url, token_url
    connection.client_id, connection.updated_by = client_id, actor
    if secret:
        connection.set_secret(secret)
    connection.version += 1
    connection.save()
    return connection


@transaction.atomic
def directory_connection_delete(*, firm) -> bool:
    """Back to the server's access (ANNUAIRE_API_URL, ANNUAIRE_API_KEY)."""
    deleted, _ = DirectoryConnection.objects.for_firm(firm).delete()
    return bool(deleted)


# --- Runs -------------------------------------------------------------------------------


@transaction.atomic
def check_run_create(
    *,
    firm,
    client_ids: list[int] | None = None,
    registers: tuple[str, ...] = (Register.SIRENE, Register.ANNUAIRE),
    skip_unchanged_days: int | None = None,
) -> CheckRun:
    """A run over the firm's active clients (or those of `client_ids` that are the
    firm's); with `skip_unchanged_days`, a client checked within that many days whose
    fields the check reads have not changed since is left out. One row, « en
    préparation », whose items the worker writes (vigie.registries.preparation) — at once
    for a small selection."""
    return preparation.run_create(
        firm=firm,
        client_ids=client_ids,
        registers=tuple(registers),
        skip_unchanged_days=skip_unchanged_days,
    )


def check_clients(
    *,
    firm,
    client_ids: list[int] | None = None,
    registers: tuple[str, ...] = (Register.SIRENE, Register.ANNUAIRE),
    skip_unchanged_days: int | None = None,
) -> CheckRun:
    """Check these clients of the firm (all when `client_ids` is None) now, here."""
    run = check_run_create(
        firm=firm,
        client_ids=client_ids,
        registers=registers,
        skip_unchanged_days=skip_unchanged_days,
    )
    return check_run_execute(run_id=run.pk)


def check_clients_queue(**kwargs) -> CheckRun:
    """The same, by the task worker."""
    run = check_run_create(**kwargs)
    transaction.on_commit(lambda: tasks.check_run.enqueue(run.pk))
    return run


def _claim(run: CheckRun) -> list[CheckItem]:
    """The next due items of the run, held for REGISTRY_LEASE_SECONDS (another worker
    skips them; a killed worker's come back once the lease is over)."""
    now = timezone.now()
    with transaction.atomic():
        items = list(
            CheckItem.objects.select_for_update(skip_locked=True)
            .filter(run=run, state=ItemState.PENDING, next_attempt_at__lte=now)
            .order_by("siren", "register", "pk")[:BATCH]
        )
        CheckItem.objects.filter(pk__in=[i.pk for i in items]).update(
            next_attempt_at=now + timedelta(seconds=settings.REGISTRY_LEASE_SECONDS)
        )
    return items


def check_run_execute(*, run_id: int, max_wait: float = 900.0) -> CheckRun:
    """Work through a run's due items; wait for the ones retried soon (up to `max_wait`
    seconds at a time), leave later ones to the sweeper."""
    run = CheckRun.objects.select_related("firm").get(pk=run_id)
    if run.state == RunState.PREPARING:
        preparation.run_prepare(run)
    connectors: dict = {}
    while True:
        if run.directory_export in (ExportState.WANTED, ExportState.LOADING):
            _export_load(run, connectors)
        items = _claim(run)
        if items:
            _check_items(run, items, connectors)
            continue
        pending = CheckItem.objects.filter(run=run, state=ItemState.PENDING)
        upcoming = (
            pending.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
        )
        if upcoming is None:
            with transaction.atomic():
                CheckRun.objects.filter(pk=run.pk).update(
                    state=RunState.DONE, finished_at=timezone.now()
                )
                ExportedLines.objects.filter(run=run).delete()
            break
        wait = (upcoming - timezone.now()).total_seconds()
        if wait > max_wait:
            break
        time.sleep(max(wait, 0.05))
    run.refresh_from_db()
    return run


def registers_sweep() -> int:
    """Requeue the runs with due items nobody is working on (a killed worker's), and the
    runs in preparation whose worker's heartbeat is a lease old."""
    lease = timedelta(seconds=settings.REGISTRY_LEASE_SECONDS)
    count = 0
    stalled = CheckRun.objects.filter(
        state=RunState.PREPARING, prepare_claimed_at__lt=timezone.now() - lease
    ).values_list("pk", "prepare_claimed_at")
    for run_id, claimed_at in stalled:
        # Moved first, on the value read, so that two sweeps don't queue it twice.
        if CheckRun.objects.filter(pk=run_id, prepare_claimed_at=claimed_at).update(
            prepare_claimed_at=timezone.now()
        ):
            tasks.check_run.enqueue(run_id)
            count += 1
    due = (
        CheckItem.objects.filter(
            state=ItemState.PENDING, next_attempt_at__lte=timezone.now() - timedelta(seconds=30)
        )
        .values("run_id")
        .annotate(n=Count("pk"))
    )
    for row in due:
        # Push them forward first so two sweeps don't queue the run twice.
        CheckItem.objects.filter(
            run_id=row["run_id"], state=ItemState.PENDING, next_attempt_at__lte=timezone.now()
        ).update(next_attempt_at=timezone.now() + min(lease, timedelta(seconds=60)))
        tasks.check_run.enqueue(row["run_id"])
        count += 1
    return count


# --- The directory's CSV export ---------------------------------------------------------


def _export_load(run: CheckRun, connectors: dict) -> None:
    """Download the directory's export for the run, once: the worker that claims it holds
    the run's directory items meanwhile (nobody searches them one by one) and writes the
    lines of the run's SIRENs in one transaction; another worker takes the download over
    once its claim is a lease old. A failed export (5xx, garbage, timeout, refused) leaves
    the items to the searches."""
    now = timezone.now()
    lease = timedelta(seconds=settings.REGISTRY_LEASE_SECONDS)
    claimed = (
        CheckRun.objects.filter(pk=run.pk)
        .filter(
            Q(directory_export=ExportState.WANTED)
            | Q(directory_export=ExportState.LOADING, export_claimed_at__lt=now - lease)
        )
        .update(directory_export=ExportState.LOADING, export_claimed_at=now)
    )
    if not claimed:  # another worker's download, or done
        run.refresh_from_db(fields=["directory_export", "export_claimed_at"])
        return
    pending = CheckItem.objects.filter(run=run, register=Register.ANNUAIRE, state=ItemState.PENDING)
    pending.filter(next_attempt_at__lt=now + lease).update(next_attempt_at=now + lease)
    sirens = set(pending.exclude(siren="").values_list("siren", flat=True))
    mine = CheckRun.objects.filter(
        pk=run.pk, directory_export=ExportState.LOADING, export_claimed_at=now
    )
    try:
        lines = _connector(run, Register.ANNUAIRE, connectors).export(sirens)
    except Exception as exc:  # noqa: BLE001 - whatever failed, the searches remain
        log.warning("directory export for run %s failed (%s): searching by SIREN", run.pk, exc)
        with transaction.atomic():
            if mine.update(directory_export=ExportState.FAILED):
                pending.filter(next_attempt_at__lte=now + lease).update(
                    next_attempt_at=timezone.now()
                )
    else:
        by_siren: dict[str, list[DirectoryLine]] = {siren: [] for siren in sirens}
        for line in lines:
            by_siren[line.siren].append(line)
        with transaction.atomic():
            if mine.update(directory_export=ExportState.LOADED):
                ExportedLines.objects.filter(run=run).delete()
                ExportedLines.objects.bulk_create(
                    [
                        ExportedLines(
                            firm_id=run.firm_id,
                            run=run,
                            siren=siren,
                            # In the search's order.
                            lines=[
                                line.as_values()
                                for line in sorted(found, key=lambda x: x.addressing_identifier)
                            ],
                        )
                        for siren, found in by_siren.items()
                    ],
                    batch_size=1000,
                )
                pending.filter(next_attempt_at__lte=now + lease).update(
                    next_attempt_at=timezone.now()
                )
    run.refresh_from_db(fields=["directory_export", "export_claimed_at"])


def _held_lines(run: CheckRun, sirens: set[str]) -> dict[str, list[DirectoryLine]]:
    """The export's lines of these SIRENs held for the run (a SIREN missing here is
    searched: its client's SIRET changed since the run began)."""
    if run.directory_export != ExportState.LOADED or not sirens:
        return {}
    return {
        row.siren: [DirectoryLine(**line) for line in row.lines]
        for row in ExportedLines.objects.filter(run=run, siren__in=sirens)
    }


# --- One batch --------------------------------------------------------------------------


def _connector(run: CheckRun, register: str, connectors: dict):
    """The run's connector to the register: for the directory, the firm's own connection
    to its platform, else the server's (vigie.registries.annuaire.connector_for)."""
    if register not in connectors:
        connectors[register] = (
            company_register() if register == Register.SIRENE else annuaire.connector_for(run.firm)
        )
    return connectors[register]


def _read_batch(run: CheckRun, groups: dict, clients: dict, connectors: dict) -> str:
    """A company register that reads many SIRETs a call (INSEE's API Sirene) reads the
    batch's in one go; the groups then find them read. Returns why it failed, or ""."""
    sirets = [
        clients[item.client_id].siret
        for (register, _siren), group in groups.items()
        if register == Register.SIRENE
        for item in group
    ]
    if not sirets:
        return ""
    connector = _connector(run, Register.SIRENE, connectors)
    if not isinstance(connector, InseeClient):
        return ""
    try:
        connector.companies(sirets)
    except (RegisterUnavailable, RegisterRefused) as exc:
        return str(exc)
    return ""


def _check_items(run: CheckRun, items: list[CheckItem], connectors: dict) -> None:
    clients = {
        c.pk: c
        for c in Client.objects.for_firm(run.firm).filter(pk__in=[i.client_id for i in items])
    }
    groups: dict[tuple[str, str], list[CheckItem]] = defaultdict(list)
    for item in items:
        client = clients.get(item.client_id)
        if client is None:  # deleted since
            _item_done(item)
        elif not is_valid_siret(client.siret):
            reason = "SIRET absent" if not client.siret else "SIRET invalide (clé de contrôle)"
            _record_unverified(client, item.register, reason, source="")
            _item_done(item)
        else:
            groups[(item.register, client.siren)].append(item)
    held = _held_lines(run, {siren for register, siren in groups if register == Register.ANNUAIRE})
    batch_failed = _read_batch(run, groups, clients, connectors)
    for (register, siren), group in groups.items():
        if register == Register.SIRENE and batch_failed:
            _items_failed(group, clients, batch_failed, connectors.get(register))
            continue
        try:
            connector = _connector(run, register, connectors)
            if register == Register.SIRENE:
                _check_sirene_group(connector, group, clients)
            else:
                _check_annuaire_group(connector, siren, group, clients, held.get(siren))
        except (RegisterUnavailable, RegisterRefused) as exc:
            _items_failed(group, clients, str(exc), connectors.get(register))
        except Exception as exc:  # noqa: BLE001 - one company's surprise never stops the run
            log.exception("register check of %s failed", siren)
            _items_failed(group, clients, f"erreur inattendue ({exc.__class__.__name__})", None)


def _item_done(item: CheckItem, error: str = "") -> None:
    CheckItem.objects.filter(pk=item.pk).update(
        state=ItemState.DONE, attempts=item.attempts + 1, last_error=error[:300]
    )


def _items_failed(group: list[CheckItem], clients: dict, reason: str, connector) -> None:
    delays = settings.REGISTRY_RETRY_DELAYS or [60]
    for item in group:
        if item.attempts + 1 >= settings.REGISTRY_ATTEMPTS:
            client = clients[item.client_id]
            _record_unverified(
                client, item.register, reason, source=getattr(connector, "source", "")
            )
            _item_done(item, reason)
        else:
            delay = delays[min(item.attempts, len(delays) - 1)]
            CheckItem.objects.filter(pk=item.pk).update(
                attempts=item.attempts + 1,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                last_error=reason[:300],
            )


def _save(client: Client, register: str, **fields) -> RegisterCheck:
    # Findings the firm dismissed for the same register value stay dismissed.
    fields = decisions.without_dismissed(client, register, fields)
    check, _ = RegisterCheck.objects.update_or_create(
        client=client, register=register, defaults={"firm_id": client.firm_id, **fields}
    )
    return check


def _record_unverified(client: Client, register: str, reason: str, *, source: str) -> None:
    """Non vérifié, with the reason; the last values read (and their date) stay."""
    _save(
        client,
        register,
        status=CheckStatus.UNVERIFIED,
        reason=reason[:300],
        attempted_at=timezone.now(),
        **({"source": source[:200]} if source else {}),
    )


def _finding(code: str, label: str, register_value, firm_value, field: str = "") -> dict:
    return {
        "code": code,
        "field": field,
        "label": label,
        "register": register_value or "—",
        "firm": firm_value or "—",
    }


# --- Company register -------------------------------------------------------------------


def _check_sirene_group(connector: SireneClient, group: list[CheckItem], clients: dict) -> None:
    by_siret: dict[str, list[CheckItem]] = defaultdict(list)
    for item in group:
        by_siret[clients[item.client_id].siret].append(item)
    company = None
    # One call for the company and its establishments (INSEE's has read them already).
    if len(by_siret) > 1 and not isinstance(connector, InseeClient):
        company = connector.company(next(iter(by_siret))[:9])
    for siret, items in by_siret.items():
        found = company if company is not None and siret in company.establishments else None
        if found is None:
            found = connector.company(siret)
        for item in items:
            client = clients[item.client_id]
            if found is None:
                _record_unverified(
                    client,
                    Register.SIRENE,
                    "SIRET introuvable au registre (inconnu ou non diffusible)",
                    source=connector.source,
                )
            else:
                _save(
                    client,
                    Register.SIRENE,
                    **sirene_result(client, found),
                    source=connector.source[:200],
                )
            _item_done(item)


def sirene_result(client: Client, company: Company) -> dict:
    """What the company register says of this client: status, values, findings."""
    findings = []
    establishment = company.establishments.get(client.siret)
    if not company.active:
        findings.append(
            _finding("ceased", "Entreprise", f"Cessée le {company.closed_on or '?'}", "Active")
        )
    elif establishment is not None and not establishment.active:
        findings.append(
            _finding(
                "establishment_closed",
                "Établissement",
                f"Fermé le {establishment.closed_on or '?'}",
                "Ouvert",
            )
        )
    head = company.head_office
    if head is not None and head.siret != client.siret:
        findings.append(_finding("not_head_office", "Siège", head.siret, client.siret, "siret"))
    if company.name and fold(company.name) != fold(client.name):
        findings.append(_finding("name", "Raison sociale", company.name, client.name, "name"))
    if company.legal_form and not same_legal_form(client.legal_form, company.legal_form):
        findings.append(
            _finding(
                "legal_form",
                "Forme juridique",
                LegalForm(company.legal_form).label,
                LegalForm(client.legal_form).label if client.legal_form else "",
                "legal_form",
            )
        )
    if company.ape_code and company.ape_code.replace(".", "") != client.ape_code.replace(".", ""):
        findings.append(_finding("ape", "Code APE", company.ape_code, client.ape_code, "ape_code"))
    closed = any(f["code"] in ("ceased", "establishment_closed") for f in findings)
    status = (
        CheckStatus.CEASED if closed else CheckStatus.DRIFT if findings else CheckStatus.UP_TO_DATE
    )
    values = company.as_values()
    values["address"] = head.address if head else ""
    now = timezone.now()
    return {
        "status": status,
        "values": values,
        "findings": findings,
        "reason": "",
        "checked_at": now,
        "attempted_at": now,
        "fingerprint": _fingerprint(client, Register.SIRENE),
    }


# --- Directory ----------------------------------------------------------------------------


def _check_annuaire_group(
    connector: AnnuaireClient,
    siren: str,
    group: list[CheckItem],
    clients: dict,
    lines: list[DirectoryLine] | None = None,
) -> None:
    """`lines`: the export's, held for the run; else one search."""
    if lines is None:
        lines = connector.lines(siren)
    firm_id = clients[group[0].client_id].firm_id
    establishments = Client.objects.filter(firm_id=firm_id, siret__startswith=siren).active()
    several = establishments.values("siret").distinct().count() > 1
    if not several:
        open_count = (
            RegisterCheck.objects.filter(
                firm_id=firm_id,
                client_id__in=[i.client_id for i in group],
                register=Register.SIRENE,
            )
            .values_list("values__open_establishments", flat=True)
            .first()
        )
        several = isinstance(open_count, int) and open_count > 1
    previous = {
        c.client_id: c
        for c in RegisterCheck.objects.filter(
            client_id__in=[i.client_id for i in group], register=Register.ANNUAIRE
        )
    }
    for item in group:
        client = clients[item.client_id]
        result = annuaire_result(
            client, lines, several_establishments=several, previous=previous.get(client.pk)
        )
        _save(client, Register.ANNUAIRE, **result, source=connector.source[:200])
        _item_done(item)


def _line_for(client: Client, lines: list[DirectoryLine]) -> DirectoryLine | None:
    """The line that routes the client's invoices: its SIRET's, else its SIREN's."""
    for level in ("siret", "routing_code"):
        for line in lines:
            if line.level == level and line.siret == client.siret:
                return line
    return next((line for line in lines if line.level == "siren"), None) or next(
        (line for line in lines if line.level == "suffix"), None
    )


def annuaire_result(
    client: Client,
    lines: list[DirectoryLine],
    *,
    several_establishments: bool,
    previous: RegisterCheck | None,
    today: date | None = None,
) -> dict:
    """What the directory says of this client: status, values, findings."""
    today = today or timezone.localdate()
    line = _line_for(client, lines)
    findings = []
    if line is None:
        if today >= RECEPTION_MANDATORY:
            findings.append(
                _finding(
                    "no_line", "Annuaire", "Aucune ligne", "Doit recevoir depuis le 01/09/2026"
                )
            )
    else:
        if client.pa_status != PaStatus.REGISTERED:
            findings.append(
                _finding(
                    "pa_status",
                    "Inscription PA",
                    f"{PaStatus.REGISTERED.label} ({line.platform_name})"
                    if line.platform_name
                    else PaStatus.REGISTERED.label,
                    PaStatus(client.pa_status).label,
                    "pa_status",
                )
            )
        # Another platform than the one the firm's record names (with none named, the
        # line itself is the finding above: the firm's record says « non inscrit »).
        if client.pa_name and fold(line.platform_name) != fold(client.pa_name):
            findings.append(
                _finding(
                    "platform", "Plateforme agréée", line.platform_name, client.pa_name, "pa_name"
                )
            )
        if line.effective and line.effective > today:
            findings.append(
                _finding(
                    "future_date",
                    "Date d'effet",
                    line.effective_date,
                    f"Aujourd'hui {today.isoformat()}",
                )
            )
        if line.level == "siren" and several_establishments:
            findings.append(
                _finding("siren_level", "Niveau d'adressage", "SIREN", "Plusieurs établissements")
            )
    values = {"line": line.as_values() if line else None, "lines": len(lines)}
    now = timezone.now()
    changed_at = previous.changed_at if previous else None
    old = (previous.values or {}).get("line") if previous and previous.checked_at else None
    if previous is not None and previous.checked_at and old != values["line"]:
        changed = sorted(
            key
            for key in set((old or {}) | (values["line"] or {}))
            if (old or {}).get(key) != (values["line"] or {}).get(key)
        )
        findings.append(
            _finding(
                "line_changed",
                "Ligne modifiée depuis le dernier contrôle",
                ", ".join(changed)
                if old and values["line"]
                else ("Ligne ajoutée" if values["line"] else "Ligne retirée"),
                f"Contrôle du {timezone.localtime(previous.checked_at):%d/%m/%Y}",
            )
        )
        changed_at = now
    return {
        "status": CheckStatus.DRIFT if findings else CheckStatus.UP_TO_DATE,
        "values": values,
        "findings": findings,
        "reason": "",
        "checked_at": now,
        "attempted_at": now,
        "changed_at": changed_at,
        "fingerprint": _fingerprint(client, Register.ANNUAIRE),
    }

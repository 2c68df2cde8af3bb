"""A register check of the demo firm against the sandbox registers, at their real limits:
`make bench-registers` (`.venv/bin/python bench/registers_bench.py [--clients N]`).

The demo portfolio (`vigie demo`: « Cabinet Démonstration », 4,537 clients) in its own
database (vigie_bench_registers, built once: bench/db.py), the sandbox started as the tests
start it (its own process and SQLite file) and seeded from the demo's clients, each register
limited as the real one: the company register at 7 requests/s per IP (API Recherche
d'entreprises), the directory at 10/s. Then one run per register, as the nightly one
(`check_clients`), timed: wall time, this process's CPU, the sandbox's CPU, the calls the
sandbox answered, the calls it refused (429) and the most calls it saw in any one second.

The target (issue « Registres »): a 5,000-client firm within one hour per register, never
over the published rate. At 7/s, one call per distinct SIREN, that is ≥ 11 minutes.
`--clients N` checks the first N clients with a SIRET only (a quicker try); `--register`
one register only; `--export` reads the directory from its CSV export (one call for the
run, ANNUAIRE_EXPORT_FROM=1) instead of one search per SIREN (ANNUAIRE_EXPORT_FROM=0). The
digest covers every client's status, findings and values: the same for both routes.
`--source insee` reads the company register from INSEE's API Sirene (the sandbox's, at the
public plan's 30 requests a minute, 50 SIRETs a call); its findings digest (statuses and
kinds of finding, not the values each source words its own way) is the same as the other's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEMO_FIRM = "Cabinet Démonstration"
RATES = {"sirene": 7, "annuaire": 10}  # the sandbox's limits, as the real services'
INSEE_PER_MINUTE = 30  # API Sirene's public plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=0, help="only the first N clients")
    parser.add_argument("--register", choices=sorted(RATES), help="only this register")
    parser.add_argument(
        "--export", action="store_true", help="the directory from its CSV export, in one call"
    )
    parser.add_argument(
        "--source",
        choices=["recherche", "insee"],
        default="recherche",
        help="the company register: API Recherche d'entreprises, or INSEE's API Sirene",
    )
    args = parser.parse_args()
    from bench.db import database_url
    from tests.sandbox import SandboxServer

    var = Path(tempfile.mkdtemp(prefix="vigie-registers-bench-"))
    sandbox = SandboxServer(var, "http://127.0.0.1:9/unused/")
    sandbox.env.update({f"SANDBOX_{name.upper()}_RATE": str(rate) for name, rate in RATES.items()})
    sandbox.env["SANDBOX_INSEE_RATE"] = str(INSEE_PER_MINUTE)
    os.environ.update(
        {
            "DATABASE_URL": database_url("vigie_bench_registers"),
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "vigie.settings",
            "SIRENE_API_URL": sandbox.url + "/recherche-entreprises",
            "ANNUAIRE_API_URL": sandbox.url + "/afnor-directory",
            "SIRENE_RATE": str(RATES["sirene"]),
            "ANNUAIRE_RATE": str(RATES["annuaire"]),
            "ANNUAIRE_EXPORT_FROM": "1" if args.export else "0",
            "SIRENE_SOURCE": args.source,
            "INSEE_API_URL": sandbox.url + "/api-sirene/3.11",
            "INSEE_API_KEY": "sandbox-insee-key",
            "INSEE_RATE_PER_MINUTE": str(INSEE_PER_MINUTE),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from vigie.firms.models import Firm

    call_command("migrate", verbosity=0)
    if not Firm.objects.filter(name=DEMO_FIRM).exists():
        print("Building the demo portfolio (vigie demo, once)…", flush=True)
        with open(os.devnull, "w") as quiet:
            call_command("demo", stdout=quiet)
    sandbox.start()
    try:
        seed = var / "seed.json"
        call_command("registers_sandbox_export", out=str(seed), firm=DEMO_FIRM)
        subprocess.run(
            [sys.executable, "-m", "sandbox", "registers_seed", str(seed)],
            env=sandbox.env,
            check=True,
        )
        registers = [args.register] if args.register else list(RATES)
        _measure(sandbox, args.clients, registers, args.export)
    finally:
        sandbox.stop()


def _measure(sandbox, limit: int, registers: list[str], export: bool) -> None:
    import psutil

    from vigie.clients.models import Client
    from vigie.firms.models import Firm
    from vigie.registries import services
    from vigie.registries.models import CheckStatus, RegisterCheck

    firm = Firm.objects.get(name=DEMO_FIRM)
    ids = list(
        Client.objects.for_firm(firm).exclude(siret="").order_by("id").values_list("id", flat=True)
    )
    ids = ids[:limit] if limit else ids
    server = psutil.Process(sandbox.process.pid)
    print(f"{firm.name}: {len(ids)} clients with a SIRET; sandbox limits {RATES} requests/s")
    for register in registers:
        rate = RATES[register]
        insee = register == "sirene" and os.environ["SIRENE_SOURCE"] == "insee"
        before = _state(sandbox, register, insee)
        sandbox_cpu = _cpu(server)
        started, cpu = time.perf_counter(), time.process_time()
        run = services.check_clients(firm=firm, client_ids=ids, registers=(register,))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        route = {"": "searches", "charge": "export", "echec": "export failed, searches"}.get(
            run.directory_export, run.directory_export
        )
        state = _state(sandbox, register, insee)
        calls = state["calls"] - before["calls"]
        statuses = {
            status.label: RegisterCheck.objects.for_firm(firm)
            .filter(register=register, client_id__in=ids, status=status)
            .count()
            for status in CheckStatus
        }
        print(
            f"  {register:9s} {len(ids)} clients in {wall:7.1f} s wall "
            f"({wall / 60:.1f} min; {len(ids) / wall:.1f} clients/s), CPU {cpu:.1f} s here + "
            f"{_cpu(server) - sandbox_cpu:.1f} s sandbox; {calls} calls, "
            f"{state['rejected'] - before['rejected']} refused (429), "
            + (
                f"(limit {INSEE_PER_MINUTE}/min, API Sirene)"
                if insee
                else f"at most {state['max_per_second']}/s (limit {rate}/s)"
            )
            + f" | {json.dumps(statuses, ensure_ascii=False)}",
            flush=True,
        )
        if register == "annuaire":
            print(f"            route: {route}; results digest {_digest(firm, register, ids)}")
        else:
            print(f"            findings digest {_findings_digest(firm, register, ids)}")
        per_5000 = wall / len(ids) * 5000 / 60
        print(f"            → a 5,000-client firm: about {per_5000:.0f} min (target ≤ 60 min)")


def _digest(firm, register: str, ids: list[int]) -> str:
    """Every client's status, findings and values, whatever the dates."""
    from vigie.registries.models import RegisterCheck

    rows = (
        RegisterCheck.objects.for_firm(firm)
        .filter(register=register, client_id__in=ids)
        .order_by("client_id")
        .values_list("client_id", "status", "findings", "values", "reason")
    )
    return hashlib.sha256(json.dumps(list(rows), sort_keys=True).encode()).hexdigest()[:12]


def _findings_digest(firm, register: str, ids: list[int]) -> str:
    """Every client's status and kinds of finding: what either source of the register
    says (each words some values its own way: API Sirene's /siret gives no closing date)."""
    from vigie.registries.models import RegisterCheck

    rows = [
        (client_id, status, [f.get("code") for f in findings])
        for client_id, status, findings in RegisterCheck.objects.for_firm(firm)
        .filter(register=register, client_id__in=ids)
        .order_by("client_id")
        .values_list("client_id", "status", "findings")
    ]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:12]


def _state(sandbox, register: str, insee: bool) -> dict:
    if insee:
        return sandbox.call("GET", "/_sandbox/insee/state")
    return sandbox.call("GET", "/_sandbox/registers/state")[register]


def _cpu(process) -> float:
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


if __name__ == "__main__":
    main()

"""Portfolio bench: `make bench`.

Builds (once, cached) a PostgreSQL database holding a firm of 100,000 clients beside 2 other firms of 100,000 (300,000 clients, ~1.7M rows), then times
portfolio requests through Django's test client, next to two references: Django's
admin changelist for the same clients and the bare SQL the page needs. Every page is
requested once before any is timed; a page and its bare SQL are timed in turn, run by
run, so that their ratio compares them on the same machine at the same moment.

Pages requested again serve their rows from the process's cache of rendered rows
(vigie.clients.portfolio.rowcache), as a web worker does: `PORTFOLIO_ROW_CACHE=0`
times every page rendering all its rows.

    .venv/bin/python bench/run.py
    BENCH_PG_URL=postgres://root@127.0.0.1:5432/vigie_bench  (else database vigie_bench
      on DATABASE_URL's server, else on the embedded one: bench/db.py)
    --rebuild  drops the cached database first

The database is measured in a child process (settings are read at start-up).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
FIRMS = 3
CLIENTS_PER_FIRM = int(os.environ.get("BENCH_CLIENTS_PER_FIRM", "100000"))
RUNS, ADMIN_RUNS, WARMUP = 25, 5, 3
TARGET_P95_MS = 100.0


def _schema_key() -> str:
    """Changes when a migration is added: the cached databases are rebuilt then."""
    names = sorted(p.name for p in ROOT.glob("vigie/*/migrations/0*.py"))
    return f"{FIRMS}x{CLIENTS_PER_FIRM}:" + ",".join(names)


# -- orchestrator ------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--worker", choices=["postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, rebuild=args.rebuild)
    VAR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {}
    sys.path.insert(0, str(ROOT))
    from bench.db import database_url

    # The workers read it: the same database, on the server found once here.
    os.environ["BENCH_PG_URL"] = database_url("vigie_bench")
    for db in ["postgres"]:
        print(f"\n=== {db} ===", flush=True)
        cmd = [sys.executable, __file__, "--worker", db] + (["--rebuild"] if args.rebuild else [])
        code = subprocess.call(cmd, cwd=ROOT)
        out = VAR / f"results-{db}.json"
        if code == 0 and out.exists():
            results[db] = json.loads(out.read_text())
        else:
            print(f"{db}: the bench failed (exit {code}).")
    _summary(results)
    print(f"\nTotal bench time: {time.perf_counter() - started:.0f} s")
    for db, result in results.items():
        start, end = result.get("load", ([], []))
        print(f"Load average (1, 5, 15 min), {db}: {_loads(start)} at start, {_loads(end)} at end")
    failed = [c for r in results.values() for c in r["checks"] if not c["ok"]]
    return 1 if failed or not results else 0


def _loads(values) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def _summary(results: dict) -> None:
    print("\n=== Summary (server time through Django's test client, ms) ===")
    head = (
        f"{'db':9} {'case':30} {'p50':>7} {'p95':>7} {'queries':>7} "
        f"{'admin p50':>9} {'admin/us':>8} {'sql p50':>8} {'us/sql':>7}"
    )
    print(head)
    print("-" * len(head))
    for db, result in results.items():
        for case in result["cases"]:
            admin = case.get("admin_p50")
            print(
                f"{db:9} {case['name']:30} {case['p50']:7.1f} {case['p95']:7.1f} "
                f"{case['queries']:7d} {admin if admin is None else round(admin, 1)!s:>9} "
                f"{(admin / case['p50']) if admin else 0:8.1f} {case['sql_p50']:8.1f} "
                f"{case['p50'] / case['sql_p50']:7.1f}"
            )
    print("\nChecks:")
    for db, result in results.items():
        for check in result["checks"]:
            print(f"  [{'OK' if check['ok'] else 'FAIL'}] {db}: {check['text']}")


# -- worker (one database) ---------------------------------------------------------------


def _setup(db: str, rebuild: bool):
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "vigie.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ["DEBUG"] = "0"
    # Production-like settings need these; the bench never calls the partner.
    os.environ.setdefault("SHINE_API_KEY", "bench-api-key")
    os.environ.setdefault("SHINE_WEBHOOK_SECRET", "bench-webhook-secret")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # django.test.Client's host
    os.environ["DATABASE_URL"] = os.environ["BENCH_PG_URL"]
    if rebuild:
        _recreate_postgres()
    import django
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.urls"
    # No collectstatic for a bench: plain static URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.LOGGING_CONFIG = None
    django.setup()


def _recreate_postgres() -> None:
    from bench.db import database_url

    database_url("vigie_bench", fresh=True)


def _ensure_built(db: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    from bench.generate import build

    marker = VAR / f"built-{db}.json"
    key = _schema_key()
    if marker.exists():
        from vigie.firms.models import Firm

        built = json.loads(marker.read_text())
        if built.get("key") != key and Firm.objects.filter(name="Bench 0").exists():
            # New migrations (indexes, columns with defaults): migrate the cached data
            # rather than generating it again; `--rebuild` starts from scratch.
            print("Migrating the cached database…", flush=True)
            call_command("migrate", verbosity=0, interactive=False)
            marker.write_text(json.dumps({**built, "key": key}))
            built["key"] = key
        if built.get("key") == key and Firm.objects.filter(name="Bench 0").exists():
            print("Cached database reused.", flush=True)
            # Sessions are read through the cache table (settings.SESSION_ENGINE), which
            # every migrate now makes: a database built before has none.
            call_command("createcachetable", verbosity=0)
            return
    connection.close()
    _recreate_postgres()
    print("Building the database (one-off, cached under var/bench/)…", flush=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    made = build(firms=FIRMS, clients_per_firm=CLIENTS_PER_FIRM)
    print(f"Built in {time.perf_counter() - started:.0f} s: {made}", flush=True)
    marker.write_text(json.dumps({"key": key, "made": made}))


def _time(fn, runs: int) -> list[float]:
    for _ in range(WARMUP):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _time_side_by_side(fns, runs: int) -> list[list[float]]:
    """Samples of several functions taken in turn, so that each sees the machine as
    the others do (its speed drifts by tens of percent within a minute)."""
    for _ in range(WARMUP):
        for fn in fns:
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, samples, strict=True):
            started = time.perf_counter()
            fn()
            out.append((time.perf_counter() - started) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def worker(db: str, rebuild: bool) -> int:
    _setup(db, rebuild)
    from django.db import connection
    from django.test import Client as HttpClient

    from vigie.accounts.models import User
    from vigie.clients.portfolio.query import SORTS, Params, PortfolioQuery
    from vigie.firms.models import Firm

    _ensure_built(db)
    load_at_start = os.getloadavg()
    firm = Firm.objects.get(name="Bench 0")
    user = User.objects.get(email="bench0-0@bench.test")
    total = firm.clients.count()
    last = (total + 9) // 10
    print(
        f"{db}: firm « {firm.name} » {total} clients; database holds "
        f"{_count('clients_client')} clients, {_count('clients_contact')} contacts",
        flush=True,
    )
    http = HttpClient()
    http.force_login(user)
    surname = "martin"
    siret_fragment = _siret_fragment(firm)
    cases = [
        ("page 1 (10)", {}, {}),
        ("last page (10)", {"page": last}, {"p": last - 1}),
        (f"search surname « {surname} »", {"q": surname}, {"q": surname}),
        (
            f"search SIRET « {siret_fragment} »",
            {"q": siret_fragment},
            {"q": siret_fragment.replace(" ", "")},
        ),
        ("search short « bo »", {"q": "bo"}, {"q": "bo"}),
        ("filter mandat signé", {"mandat": "signe"}, {"mandate_status__exact": "signe"}),
        ("view collecte", {"view": "collecte"}, {}),
        ("view equipement", {"view": "equipement"}, {}),
        ("page size 10", {"per_page": 10, "page": 2}, {"p": 1}),
        ("page size 100", {"per_page": 100, "page": 2}, {"p": 1}),
    ]
    results, checks = [], []
    # A server in use: every page once through before any is timed (the first case
    # otherwise pays for the process's and the database's cold caches).
    for _name, query, _admin_query in cases:
        http.get("/?" + "&".join(f"{k}={v}" for k, v in query.items()))
    for name, query, admin_query in cases:
        url = "/?" + "&".join(f"{k}={v}" for k, v in query.items())
        response = http.get(url)
        assert response.status_code == 200, (url, response.status_code)
        statements = []
        with connection.execute_wrapper(
            lambda ex, sql, *a, s=statements: s.append(sql) or ex(sql, *a)
        ):
            http.get(url)
        per_page = query.get("per_page", 10)
        admin_site = "bench-admin-100" if per_page == 100 else "bench-admin-10"
        admin_url = f"/{admin_site}/clients/client/?" + "&".join(
            f"{k}={v}" for k, v in admin_query.items()
        )
        admin_response = http.get(admin_url)
        assert admin_response.status_code == 200, (admin_url, admin_response.status_code)
        admin_samples = _time(lambda u=admin_url: http.get(u), ADMIN_RUNS)
        params = Params.from_query({k: str(v) for k, v in query.items()})
        pq = PortfolioQuery(firm_id=firm.id, params=params, user_id=user.id)
        # The page and its bare SQL in turn: the ratio compares them on the same machine.
        samples, sql_samples = _time_side_by_side(
            [lambda url=url: http.get(url), lambda pq=pq: _bare_sql(pq, SORTS)], RUNS
        )
        case = {
            "name": name,
            "p50": statistics.median(samples),
            "p95": _p95(samples),
            "queries": len(statements),
            "admin_p50": statistics.median(admin_samples),
            "sql_p50": statistics.median(sql_samples),
        }
        results.append(case)
        print(
            f"  {name:30} p50 {case['p50']:6.1f} p95 {case['p95']:6.1f} ms, "
            f"{case['queries']} queries | admin {case['admin_p50']:7.1f} | sql {case['sql_p50']:5.1f}",
            flush=True,
        )
    by_name = {c["name"]: c for c in results}
    worst = max(results, key=lambda c: c["p95"])
    checks.append(
        {
            "ok": worst["p95"] <= TARGET_P95_MS,
            "text": f"p95 ≤ {TARGET_P95_MS:.0f} ms in every case (worst: {worst['name']}, {worst['p95']:.1f} ms)",
        }
    )
    ratio = by_name["last page (10)"]["p50"] / by_name["page 1 (10)"]["p50"]
    checks.append({"ok": ratio <= 2, "text": f"last page ≤ 2× page 1 ({ratio:.2f}×)"})
    for case in results:
        # Medians: the admin is timed over fewer runs.
        wanted = 10 if case["name"].startswith("search") else 5
        ratio = case["admin_p50"] / case["p50"]
        checks.append(
            {
                "ok": ratio >= wanted,
                "text": f"{case['name']}: ≥ {wanted}× faster than the admin ({ratio:.1f}×)",
            }
        )
        ceiling = 3 * case["sql_p50"] + 5
        checks.append(
            {
                "ok": case["p50"] <= ceiling,
                "text": f"{case['name']}: ≤ 3× bare SQL + 5 ms ({case['p50']:.1f} vs {ceiling:.1f} ms)",
            }
        )
    q10, q100 = by_name["page size 10"]["queries"], by_name["page size 100"]["queries"]
    checks.append(
        {"ok": q10 == q100, "text": f"queries constant with page size ({q10} at 10, {q100} at 100)"}
    )
    for label, q in (("surname", surname), ("SIRET fragment", siret_fragment)):
        pq = PortfolioQuery(firm_id=firm.id, params=Params(q=q), user_id=user.id)
        used, plan = _search_uses_index(pq)
        checks.append(
            {"ok": used, "text": f"{label} search goes through the trigram index ({plan})"}
        )
    load = [load_at_start, os.getloadavg()]
    (VAR / f"results-{db}.json").write_text(
        json.dumps({"cases": results, "checks": checks, "load": load})
    )
    return 0


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        return cur.fetchone()[0]


def _siret_fragment(firm) -> str:
    """Seven digits from the middle of some client's SIRET, typed with a space."""
    siret = firm.clients.exclude(siret="").order_by("id").values_list("siret", flat=True)[500]
    return f"{siret[3:6]} {siret[6:10]}"


# What the rows show, as the least a hand-written page would read: the clients' columns,
# then their equipment, contacts and collaborators in one statement.
BARE_ROWS_SQL = (
    "SELECT c.id, c.firm_id, c.code, c.name, c.legal_form, c.siret, c.notes, c.collect_email, "
    "c.reception_flux, c.flux_achat, c.flux_vente, c.flux_banque, c.paie, c.sensitised, "
    "c.sensitised_at, c.mandate_status, c.pa_status, c.pa_name, c.shine_status "
    "FROM clients_client c WHERE c.firm_id = %s AND c.id = ANY(%s)"
)
BARE_DETAILS_SQL = (
    "SELECT 'e', client_id, NULL, slot, plan, NULL, solution_id, created_at, id "
    "FROM equipment_equipment WHERE client_id = ANY(%s) "
    "UNION ALL SELECT 'c', client_id, is_principal, first_name, last_name, email, NULL, NULL, id "
    "FROM clients_contact WHERE client_id = ANY(%s) "
    "UNION ALL SELECT 'a', client_id, NULL, NULL, NULL, NULL, user_id, NULL, id "
    "FROM clients_clientassignment WHERE client_id = ANY(%s)"
)


def _bare_sql(pq, sorts) -> None:
    """What the page needs at the least, through a bare cursor: the count, the page's
    ids, and what its rows show — the clients' columns, then their contacts,
    collaborators and equipment (without them no row can say « N contacts », show its
    avatars or its ACHAT / VENTE / CAISSE). The page's own selector, then the fewest
    hand-written statements for its rows, without the Python around them."""
    from django.db import connection

    p = pq.params
    _total, _number, ids, _versions = pq.page_ids(page=p.page, per_page=p.per_page)
    if not ids:
        return
    with connection.cursor() as cur:
        cur.execute(BARE_ROWS_SQL, [pq.firm_id, ids])
        cur.fetchall()
        cur.execute(BARE_DETAILS_SQL, [ids, ids, ids])
        cur.fetchall()


def _search_uses_index(pq) -> tuple[bool, str]:
    from django.db import connection
    from psycopg import sql

    statement, args = pq.matches_sql(sql.SQL("COUNT(*)"))
    with connection.cursor() as cur:
        cur.execute(sql.SQL("EXPLAIN {}").format(statement), args)
        plan = " | ".join(row[0].strip() for row in cur.fetchall())
        used = "clients_searchdoc_keys" in plan
        return used, "GIN of the firm's trigrams in the clients' search documents" if used else plan


if __name__ == "__main__":
    sys.exit(main())

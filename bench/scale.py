"""Scale bench: `make bench-scale` (`.venv/bin/python bench/scale.py`).

How each firm's cost grows as the whole database grows. Builds once (cached: a marker per
size under var/bench/, `scale-<size>.json`, reused until a migration is added, then the
cached database is migrated) PostgreSQL databases of 300,000, 1,000,000 and 3,000,000
clients with the proportions of a real installation: a few firms of 100,000 clients
(one per 300,000), then firms of 1,000–10,000 (three quarters of the rest, log-uniform:
hundreds at 3M) and of 50–500 (the last quarter: thousands at 3M). Each firm brings half
or so of its clients in one import and the rest in small batches over time, interleaved
with the other firms' (a firm's rows are not contiguous on disk, as in a live database).
Rows are bench/generate.py's (French names, valid SIRETs, about 2 contacts, 1.5 assigned
collaborators, 1.2 equipment rows per client, mandate and PA states as the demo draws
them) plus a head-office address (the demo's pools) and, for the clients on Shine, their
invitation; written with COPY, the secondary indexes built after, then ANALYZE.

Then, for the firm of 100,000 and a firm of 500 in each database, the portfolio's cases
through Django's test client in process (as bench/run.py) and their bare SQL, p50/p95,
with the EXPLAIN (ANALYZE, BUFFERS) of every statement of the page's selector and rows
(var/bench/scale-plans-<size>.txt); and `vigie sweep`'s round and the registers' nightly
start with little work due. `--only jobs`: for the same two firms, the client page, the
reform dashboard and its penalties worklist (p50/p95), the whole portfolio's CSV and XLSX
export, an import of 200 new clients (upload and preview, then start and run) and
« Vérifier tout le portefeuille »'s start (wall time of a few runs; the import and the run
rolled back), with the plans of each case's slowest statements
(var/bench/scale-jobs-plans-<size>.txt). docs/SCALE.md has the figures.

    .venv/bin/python bench/scale.py                       build what is missing, measure
    --sizes 300k,1m,3m    which databases (SCALE_SIZES)
    --only build|pages|jobs|sweep|load
    --rounds N            each size measured N times, in turn (the machine drifts)
    --rebuild             drop the cached databases of --sizes first
    --load                the open-model load (load/open.py) on each size too

The databases are `scale_<size>` on the server bench/db.py picks (BENCH_PG_URL's,
DATABASE_URL's, else the embedded one); each size is measured in a child process.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
SIZES = {"300k": 300_000, "1m": 1_000_000, "3m": 3_000_000}
BIG = 100_000
SMALL = 500
BIG_FIRM, SMALL_FIRM = "Scale 100k 0", "Scale 500"
RUNS, WARMUP = 30, 3
# From the smallest database to the largest, per case and firm.
TARGET_RATIO = 1.3
TARGET_P95_MS = {"big": 100.0, "small": 30.0}
# The build's clock: invitations are dated from it, and the sweep runs at it (see sweep()).
EPOCH = datetime(2026, 11, 2, 2, 30, tzinfo=UTC)


def _schema_key(size: str) -> str:
    names = sorted(
        f"{p.parent.parent.name}/{p.stem}" for p in ROOT.glob("vigie/*/migrations/0*.py")
    )
    return f"scale:{size}:" + ",".join(names)


def _marker(size: str) -> Path:
    return VAR / f"scale-{size}.json"


def _db_name(size: str) -> str:
    return f"scale_{size}"


# -- the plan of firms ---------------------------------------------------------------------


def plan_firms(total: int, seed: int = 11) -> list[tuple[str, int]]:
    """(name, clients) of every firm of a database of `total` clients."""
    rng = random.Random(seed)
    big = max(1, round(total / 300_000))
    firms = [(f"Scale 100k {i}", BIG) for i in range(big)]
    rest = total - big * BIG
    medium_target = rest * 3 // 4
    firms += _draw(rng, "Scale moyen", medium_target, 1_000, 10_000)
    firms += [(SMALL_FIRM, SMALL)]
    firms += _draw(rng, "Scale petit", rest - medium_target - SMALL, 50, 500)
    assert sum(n for _, n in firms) == total, (sum(n for _, n in firms), total)
    return firms


def _draw(rng, prefix: str, target: int, low: int, high: int) -> list[tuple[str, int]]:
    """Firms of low..high clients (log-uniform) summing to `target`."""
    out, made = [], 0
    while made < target:
        size = int(math.exp(rng.uniform(math.log(low), math.log(high))))
        size = min(size, target - made)
        if size < low and out:  # the remainder joins the last firm
            name, last = out[-1]
            out[-1] = (name, last + size)
        else:
            out.append((f"{prefix} {len(out)}", size))
        made += size
    return out


def batches(firms: list[tuple[int, int]], rng: random.Random) -> list[tuple[int, int]]:
    """(firm index, clients) in the order they are written: each firm's first import
    (30–80 % of its clients) and its later batches of 1–200, all shuffled together."""
    out = []
    for index, (_firm_id, size) in enumerate(firms):
        first = max(1, int(size * rng.uniform(0.3, 0.8)))
        out.append((index, first))
        left = size - first
        while left > 0:
            n = min(left, rng.randint(1, 200))
            out.append((index, n))
            left -= n
    rng.shuffle(out)
    return out


# -- build (child process, one database) ---------------------------------------------------


def build(size: str, log=print) -> dict:
    """Generate the database of `size` (its schema migrated already)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django_tasks_db.models import DBTaskResult
    from psycopg import sql

    from bench.generate import (
        ACHAT,
        BENCH_PASSWORD,
        CAISSE,
        FIRST_NAMES,
        FORMS,
        LAST_NAMES,
        PA_NAMES,
        TRADES,
        VENTE,
        Loader,
        _create,
        _drop,
        _secondary_indexes,
        _siret,
        fold,
    )
    from vigie.accounts.models import User
    from vigie.clients import directory, rowversion, searchdoc
    from vigie.clients.counts import recount
    from vigie.clients.models import Client, ClientAssignment, Contact, PaStatus
    from vigie.demo.data import Addresses, draw_mandate, draw_pa
    from vigie.equipment.models import Equipment, Solution
    from vigie.firms.models import Firm, Membership, Role
    from vigie.invitations.models import Invitation
    from vigie.mail.models import OutboundEmail
    from vigie.partners.models import PartnerLink
    from vigie.registries.models import NightlyCheck

    rng = random.Random(2027)
    addresses = Addresses.seeded(2028)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    stamp = EPOCH - timedelta(days=400)
    plan = plan_firms(SIZES[size])
    order = list(range(len(plan)))
    rng.shuffle(order)  # firm ids do not follow the firms' sizes
    password = make_password(BENCH_PASSWORD)
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
    firms = Firm.objects.bulk_create([Firm(name=plan[i][0]) for i in order], batch_size=2000)
    users, members, firm_users = [], [], []
    for firm, i in zip(firms, order, strict=True):
        count = min(40, max(2, plan[i][1] // 2500))
        made = []
        for u in range(count):
            user = User(
                email=f"scale{firm.id}-{u}@bench.test",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                password=password,
            )
            users.append(user)
            made.append(user)
        firm_users.append(made)
    User.objects.bulk_create(users, batch_size=2000)
    for firm, made in zip(firms, firm_users, strict=True):
        for u, user in enumerate(made):
            members.append(
                Membership(user=user, firm=firm, role=Role.ADMIN if u == 0 else Role.COLLABORATOR)
            )
    Membership.objects.bulk_create(members, batch_size=2000)
    firm_rows = [
        (firm.id, plan[i][1], [u.id for u in made])
        for firm, i, made in zip(firms, order, firm_users, strict=True)
    ]
    phases["firms and users"] = time.perf_counter() - started

    solutions = {s.slug: s.id for s in Solution.objects.all()}
    tables = [
        Client._meta.db_table,
        Contact._meta.db_table,
        ClientAssignment._meta.db_table,
        Equipment._meta.db_table,
        Invitation._meta.db_table,
        OutboundEmail._meta.db_table,
        PartnerLink._meta.db_table,
        DBTaskResult._meta.db_table,
    ]
    dropped = _secondary_indexes(tables)
    _drop(dropped)

    class Quoted(Loader):
        """bench/generate.py's loader, with quoted column names (`to` is a keyword)."""

        def flush(self) -> None:
            if not self.pending:
                return
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(self.table), sql.SQL(", ").join(map(sql.Identifier, self.columns))
            )
            with connection.connection.cursor() as cur, cur.copy(statement) as copy:
                for row in self.pending:
                    copy.write_row(row)
            self.written += len(self.pending)
            self.pending = []

    loaders = {
        name: Quoted(model)
        for name, model in (
            ("clients", Client),
            ("contacts", Contact),
            ("assignments", ClientAssignment),
            ("equipment", Equipment),
            ("invitations", Invitation),
            ("emails", OutboundEmail),
            ("links", PartnerLink),
            ("tasks", DBTaskResult),
        )
    }
    clients, contacts = loaders["clients"], loaders["contacts"]
    assignments, equipment, invitations = (
        loaders["assignments"],
        loaders["equipment"],
        loaders["invitations"],
    )
    ids = dict.fromkeys(
        ("client", "contact", "assignment", "equipment", "invitation", "email", "link"), 0
    )
    written = [0] * len(firm_rows)
    email_seq = 0

    def uid():
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def next_id(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    with connection.cursor() as cur:
        # Session-wide (each COPY batch commits on its own): no FK or read-model triggers,
        # whose tables are filled in one pass afterwards.
        cur.execute("SET session_replication_role = replica")
    phase = time.perf_counter()
    for index, count in batches([(f, n) for f, n, _ in firm_rows], rng):
        firm_id, _size, members_ = firm_rows[index]
        for _ in range(count):
            n = written[index]
            written[index] += 1
            client_id = next_id("client")
            last = rng.choice(LAST_NAMES)
            form = rng.choice(FORMS)
            if form in ("EI", "MICRO"):
                name = f"{last.upper()} {rng.choice(FIRST_NAMES)}"
            else:
                name = f"{rng.choice(TRADES)} {last}"
            code = f"{n:06d}"
            siret = _siret(rng) if rng.random() < 0.88 else ""
            mandate = draw_mandate(rng)
            pa = draw_pa(rng)
            shine = rng.random() < 0.15 and bool(siret)
            shine_status = rng.choice(["active", "active", "envoyee"]) if shine else ""
            clients.add(
                {
                    "id": client_id,
                    "firm_id": firm_id,
                    "public_id": uid(),
                    "code": code,
                    "name": name,
                    "legal_form": form,
                    "siret": siret,
                    **addresses.draw(),
                    "notes": "Relancer pour les pièces." if rng.random() < 0.05 else "",
                    "collect_email": f"invoice-{uid()}@collecte.bench"
                    if rng.random() < 0.35
                    else "",
                    "reception_flux": "Shine Plus" if shine else "",
                    "flux_banque": rng.choice(["", "Qonto", "Bridge"]),
                    "sensitised": rng.random() < 0.4,
                    "mandate_status": str(mandate),
                    "pa_status": str(pa),
                    "pa_name": rng.choice(PA_NAMES) if pa == PaStatus.REGISTERED else "",
                    "shine_status": shine_status,
                    "sort_name": fold(name),
                    "search_text": f"{fold(name)} {code.lower()} {siret}".rstrip(),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "docs_to_file": 0,
                }
            )
            n_contacts = rng.choices((0, 1, 2, 3, 4), (10, 25, 35, 20, 10))[0]
            domain = f"{fold(last).replace(' ', '-')}-{firm_id}-{code}.fr"
            principal = None
            for i in range(n_contacts):
                email_seq += 1
                first, clast = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                email = f"{fold(first)}.{fold(clast)}.{email_seq}@{domain}".replace(" ", "-")
                contact_id = next_id("contact")
                if i == 0:
                    principal = (contact_id, email)
                contacts.add(
                    {
                        "id": contact_id,
                        "firm_id": firm_id,
                        "client_id": client_id,
                        "public_id": uid(),
                        "first_name": first,
                        "last_name": clast,
                        "email": email,
                        "access": "admin" if i == 0 else "utilisateur",
                        "is_principal": i == 0,
                        "search_text": f"{fold(f'{first} {clast}')} {email}",
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                )
            if rng.random() < 0.85:
                picks = rng.choice((1, 1, 2, 2, 3))
                for user_id in rng.sample(members_, min(picks, len(members_))):
                    assignments.add(
                        {
                            "id": next_id("assignment"),
                            "firm_id": firm_id,
                            "client_id": client_id,
                            "user_id": user_id,
                            "created_at": stamp,
                        }
                    )
            slots = []
            if shine:
                slots = [("achat", "shine", "Plus"), ("vente", "shine", "Plus")]
            else:
                roll = rng.random()
                if roll < 0.5:
                    slots.append(("achat", rng.choice(ACHAT), ""))
                if roll < 0.4:
                    slots.append(("vente", rng.choice(VENTE), ""))
                if roll < 0.07:
                    slots.append(("achat", "microsoft-excel", ""))
            if rng.random() < 0.2:
                slots.append(("caisse", rng.choice(CAISSE), ""))
            for slot, slug, plan_label in slots:
                equipment.add(
                    {
                        "id": next_id("equipment"),
                        "firm_id": firm_id,
                        "client_id": client_id,
                        "solution_id": solutions[slug],
                        "slot": slot,
                        "plan": plan_label,
                        "created_at": stamp,
                        "created_by_id": None,
                    }
                )
            if shine:
                # Activated ones months ago (as the demo); the sent ones over the 30 days
                # before EPOCH, reminded as the sweep does at 7 and 14 days: the state a
                # sweep running every 15 s leaves, with nothing due at EPOCH.
                activated = shine_status == "active"
                if activated:
                    age = timedelta(days=rng.randrange(2, 200))
                else:
                    age = timedelta(seconds=rng.randrange(3600, 29 * 86400))
                sent_at = EPOCH - age
                reminders = (age >= timedelta(days=7)) + (age >= timedelta(days=14))
                reminded_at = (
                    sent_at + timedelta(days=7 * reminders) if reminders and not activated else None
                )
                if principal is None:
                    email_seq += 1
                    principal = (None, f"contact.{email_seq}@{domain}")
                # Its e-mail (sent), the task that sent it, and the partner's side.
                email_id = next_id("email")
                loaders["emails"].add(
                    {
                        "id": email_id,
                        "firm_id": firm_id,
                        "client_id": client_id,
                        "kind": "invitation",
                        "to": principal[1],
                        "subject": "Activez votre compte Shine",
                        "text": "Bonjour, …",
                        "attachments": "[]",
                        "message_id": f"<{uid()}@vigie.bench>",
                        "status": "sent",
                        "attempts": 1,
                        "sent_at": sent_at,
                        "created_at": sent_at,
                    }
                )
                loaders["tasks"].add(
                    {
                        "id": uid(),
                        "status": "SUCCESSFUL",
                        "enqueued_at": sent_at,
                        "started_at": sent_at,
                        "finished_at": sent_at,
                        "run_after": sent_at,
                        "args_kwargs": json.dumps({"args": [email_id], "kwargs": {}}),
                        "priority": 0,
                        "task_path": "vigie.mail.tasks.send_outbound_email",
                        "worker_ids": "[]",
                        "queue_name": "default",
                        "backend_name": "default",
                        "return_value": None,
                    }
                )
                invitation_id = next_id("invitation")
                loaders["links"].add(
                    {
                        "id": next_id("link"),
                        "firm_id": firm_id,
                        "invitation_id": invitation_id,
                        "state": "creee",
                        "partner_invitation_id": f"inv_{invitation_id}",
                        "account_active": activated,
                        "attempts": 1,
                        "last_event_at": 0,
                        "updated_at": sent_at,
                    }
                )
                invitations.add(
                    {
                        "id": invitation_id,
                        "outbound_id": email_id,
                        "public_id": uid(),
                        "firm_id": firm_id,
                        "client_id": client_id,
                        "contact_id": principal[0],
                        "email": principal[1],
                        "plan": "plus",
                        "billing_mode": rng.choice(["shine", "cabinet"]),
                        "status": "activee" if activated else "envoyee",
                        "send_method": "vigie",
                        "subject": "Activez votre compte Shine",
                        "message_id": f"<{uid()}@vigie.bench>",
                        "attempts": 1,
                        "created_by_id": members_[0],
                        "sent_by_id": members_[0],
                        "created_at": sent_at,
                        "updated_at": sent_at,
                        "sent_at": sent_at,
                        "activated_at": sent_at + timedelta(days=2) if activated else None,
                        "reminders_sent": 0 if activated else reminders,
                        "last_reminder_at": reminded_at,
                    }
                )
        if ids["client"] // 250_000 != (ids["client"] - count) // 250_000:
            log(f"  {ids['client']:,} clients ({time.perf_counter() - phase:.0f} s)", flush=True)
    for loader in loaders.values():
        loader.flush()
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = origin")
    phases["rows (COPY)"] = time.perf_counter() - phase

    phase = time.perf_counter()
    _create(dropped)
    phases["indexes"] = time.perf_counter() - phase
    phase = time.perf_counter()
    recount()  # the triggers were off during the load: the read model in one pass each
    directory.backfill()
    read_model = _secondary_indexes(["clients_rowversion", "clients_searchdoc"])
    _drop(read_model)
    rowversion.backfill()
    searchdoc.backfill()
    _create(read_model)
    # Every firm's nightly register check already started tonight (sweep() says why).
    NightlyCheck.objects.bulk_create(
        [NightlyCheck(firm_id=f, night=EPOCH.date(), started_at=EPOCH) for f, _n, _u in firm_rows],
        batch_size=2000,
    )
    phases["read model (counts, versions, search documents)"] = time.perf_counter() - phase
    phase = time.perf_counter()
    with connection.cursor() as cur:
        for table in tables:
            if table == DBTaskResult._meta.db_table:
                continue  # uuid keys
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        cur.execute("VACUUM ANALYZE")
    phases["VACUUM ANALYZE"] = time.perf_counter() - phase
    made = {
        "firms": len(firm_rows),
        "users": len(users),
        **{f"{k}s": v for k, v in ids.items()},
        "firm sizes": {
            "100,000": sum(1 for _, n, _u in firm_rows if n == BIG),
            "1,000-10,000": sum(1 for _, n, _u in firm_rows if 1_000 <= n < BIG),
            "50-999": sum(1 for _, n, _u in firm_rows if n < 1_000),
        },
    }
    return {"made": made, "phases": phases, "seconds": time.perf_counter() - started}


# -- child process set-up ----------------------------------------------------------------


def _setup(size: str) -> None:
    os.environ["BENCH_PG_URL"] = os.environ["SCALE_DB_URL"]
    from bench.run import _setup as setup

    setup("postgres", False)


def _database_size() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cur.fetchone()[0]


def ensure_built(size: str, rebuild: bool = False) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from vigie.firms.models import Firm

    marker = _marker(size)
    key = _schema_key(size)
    built = json.loads(marker.read_text()) if marker.exists() else None
    if built and not rebuild and Firm.objects.filter(name=BIG_FIRM).exists():
        if built.get("key") != key:
            print(f"{size}: migrating the cached database…", flush=True)
            phase = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            built.setdefault("migrations", []).append(
                {"to": key.rsplit(",", 1)[-1], "seconds": time.perf_counter() - phase}
            )
            built["key"] = key
            marker.write_text(json.dumps(built, indent=1))
        call_command("createcachetable", verbosity=0)
        return built
    connection.close()
    from bench.db import database_url

    database_url(_db_name(size), fresh=True)
    print(f"{size}: building (one-off, cached; marker {marker})…", flush=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - started
    call_command("createcachetable", verbosity=0)
    result = build(size)
    result["phases"] = {"migrate": migrate_s, **result["phases"]}
    result["seconds"] = time.perf_counter() - started
    result["database size"] = _database_size()
    built = {"key": key, **result}
    marker.write_text(json.dumps(built, indent=1))
    print(f"{size}: built in {result['seconds']:.0f} s: {json.dumps(result['made'])}", flush=True)
    return built


def worker_build(size: str, rebuild: bool) -> int:
    _setup(size)
    built = ensure_built(size, rebuild)
    print(json.dumps(built, indent=1), flush=True)
    return 0


# -- the portfolio's cases (child process, one database) ---------------------------------

# (key, label, query); the SIRET fragment is the firm's own.
CASES = [
    ("page1", "page 1", {}),
    ("last", "last page", {"page": "LAST"}),
    ("equipement", "view Équipement (page 2)", {"view": "equipement", "page": 2}),
    ("collecte", "view Collecte", {"view": "collecte"}),
    ("filter", "filter mandat signé", {"mandat": "signe"}),
    ("surname", "search surname « martin »", {"q": "martin"}),
    ("siret", "search SIRET fragment", {"q": "SIRET"}),
    ("short", "search two letters « bo »", {"q": "bo"}),
    ("rows100", "100 rows per page (page 2)", {"per_page": 100, "page": 2}),
]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _firm_and_user(name: str):
    from vigie.accounts.models import User
    from vigie.firms.models import Firm, Role

    firm = Firm.objects.get(name=name)
    user = User.objects.filter(membership__firm=firm, membership__role=Role.ADMIN).first()
    return firm, user


def _siret_fragment(firm) -> str:
    """Seven digits from the middle of one of the firm's SIRETs, typed with a space."""
    sirets = firm.clients.exclude(siret="").order_by("id").values_list("siret", flat=True)
    siret = sirets[sirets.count() // 2]
    return f"{siret[3:6]} {siret[6:10]}"


def _captured(fn) -> list[tuple]:
    """The statements `fn` runs, with their arguments."""
    from django.db import connection

    statements: list[tuple] = []

    def wrapper(execute, statement, params, many, context):
        statements.append((statement, params))
        return execute(statement, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return statements


def _explain(statements: list[tuple]) -> str:
    from django.db import connection
    from psycopg import sql

    out = []
    with connection.cursor() as cur:
        for statement, params in statements:
            if isinstance(statement, str):
                statement = sql.SQL(statement)
            text = statement.as_string(connection.connection)
            cur.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) {}").format(statement), params)
            plan = "\n".join(row[0] for row in cur.fetchall())
            out.append(f"{text}\n  -- {params!r}\n{plan}\n")
    return "\n".join(out)


def worker_pages(size: str, round_: int) -> int:
    _setup(size)
    from django.test import Client as HttpClient

    from bench.run import _bare_sql, _time_side_by_side
    from vigie.clients.portfolio.query import (
        SORTS,
        Lookups,
        Params,
        PortfolioQuery,
        load_rows,
    )

    ensure_built(size)
    results: dict = {"size": size, "database size": _database_size(), "firms": {}}
    plans = []
    for key, name in (("big", BIG_FIRM), ("small", SMALL_FIRM)):
        firm, user = _firm_and_user(name)
        total = firm.clients.count()
        http = HttpClient()
        http.force_login(user)
        fragment = _siret_fragment(firm)
        cases = []
        for case, label, query in CASES:
            query = dict(query)
            if query.get("page") == "LAST":
                query["page"] = (total + 9) // 10
            if query.get("q") == "SIRET":
                query["q"] = fragment
                label = f"{label} « {fragment} »"
            cases.append((case, label, query))
        # Every page once before any is timed (a server in use).
        for _case, _label, query in cases:
            assert http.get("/", query).status_code == 200
        firm_results = {"name": name, "id": firm.id, "clients": total, "cases": {}}
        for case, label, query in cases:
            params = Params.from_query({k: str(v) for k, v in query.items()})
            pq = PortfolioQuery(firm_id=firm.id, params=params, user_id=user.id)
            lookups = Lookups.for_firm(firm)
            page = {}

            def selector(pq=pq, params=params, page=page, lookups=lookups, firm=firm):
                found = pq.page_ids(page=params.page, per_page=params.per_page)
                page["total"] = found[0]
                load_rows(firm, found[2], lookups)

            statements = _captured(selector)
            queries = len(_captured(lambda q=query, http=http: http.get("/", q)))
            if round_ == 0:
                plans.append(f"===== {size} · {name} ({total} clients) · {label} =====\n")
                plans.append(_explain(statements))
            samples, sql_samples = _time_side_by_side(
                [lambda q=query, h=http: h.get("/", q), lambda pq=pq: _bare_sql(pq, SORTS)],
                RUNS,
            )
            firm_results["cases"][case] = {
                "label": label,
                "page": samples,
                "sql": sql_samples,
                "queries": queries,
                "matches": page["total"],
            }
            print(
                f"  {size} {key:5} {label:44} p50 {statistics.median(samples):6.1f} "
                f"p95 {_percentile(samples, 0.95):6.1f} | sql p50 "
                f"{statistics.median(sql_samples):5.1f} ms ({page['total']} matches)",
                flush=True,
            )
        results["firms"][key] = firm_results
    results["load"] = os.getloadavg()
    (VAR / f"scale-pages-{size}-{round_}.json").write_text(json.dumps(results))
    if plans:
        (VAR / f"scale-plans-{size}.txt").write_text("\n".join(plans))
    return 0


def _merged(size: str, rounds: int) -> dict | None:
    """The rounds' samples of one size, pooled."""
    merged = None
    for round_ in range(rounds):
        path = VAR / f"scale-pages-{size}-{round_}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        if merged is None:
            merged = data
            continue
        for key, firm in data["firms"].items():
            for case, values in firm["cases"].items():
                into = merged["firms"][key]["cases"][case]
                into["page"] += values["page"]
                into["sql"] += values["sql"]
    return merged


def report_pages(sizes: list[str], rounds: int) -> bool:
    """Print the table case × size for both firms, the ratio largest / smallest, and the
    checks; True when they pass."""
    data = {size: _merged(size, rounds) for size in sizes}
    data = {size: d for size, d in data.items() if d}
    if not data:
        return False
    first, last = next(iter(data)), list(data)[-1]
    ok = True
    lines = []
    for key in ("big", "small"):
        names = {d["firms"][key]["name"]: d["firms"][key]["clients"] for d in data.values()}
        lines.append(
            f"\n=== {key} firm ({', '.join(f'{n}: {c:,} clients' for n, c in names.items())}):"
            " page p50 / p95 through Django's test client, bare SQL p50 (ms) ==="
        )
        head = f"{'case':44}" + "".join(f"{size:>22}" for size in data)
        head += f"{'p50 ratio':>10}{'p95 ratio':>10}"
        lines.append(head)
        lines.append("-" * len(head))
        for case, _label, _query in CASES:
            label = data[first]["firms"][key]["cases"][case]["label"]
            row = f"{label:44}"
            for d in data.values():
                values = d["firms"][key]["cases"][case]
                row += (
                    f"{statistics.median(values['page']):7.1f} /"
                    f"{_percentile(values['page'], 0.95):6.1f} ({statistics.median(values['sql']):4.1f})"
                )
            a = data[first]["firms"][key]["cases"][case]
            b = data[last]["firms"][key]["cases"][case]
            r50 = statistics.median(b["page"]) / statistics.median(a["page"])
            r95 = _percentile(b["page"], 0.95) / _percentile(a["page"], 0.95)
            row += f"{r50:9.2f}×{r95:9.2f}×"
            lines.append(row)
            worst = max(
                _percentile(d["firms"][key]["cases"][case]["page"], 0.95) for d in data.values()
            )
            if r50 > TARGET_RATIO or worst > TARGET_P95_MS[key]:
                ok = False
                lines.append(
                    f"  [FAIL] {label}: ratio {r50:.2f}× (≤ {TARGET_RATIO}×), "
                    f"worst p95 {worst:.1f} ms (≤ {TARGET_P95_MS[key]:.0f})"
                )
    print("\n".join(lines))
    loads = ", ".join(
        f"{size}: {'/'.join(f'{v:.2f}' for v in d['load'])}" for size, d in data.items()
    )
    print(f"\nLoad average at the end of each size's run (1/5/15 min): {loads}")
    print(f"Plans: {', '.join(str(VAR / f'scale-plans-{size}.txt') for size in data)}")
    print(
        f"Checks: {'all passed' if ok else 'some failed'} (ratio {first} → {last} ≤ "
        f"{TARGET_RATIO}×, p95 ≤ {TARGET_P95_MS['big']:.0f} ms big, "
        f"≤ {TARGET_P95_MS['small']:.0f} ms small)"
    )
    return ok


# -- the sweep (child process, one database) -----------------------------------------------

SWEEP_RUNS = 5
DUE_INVITATIONS = 10  # made due for their first reminder
DUE_FIRMS = 3  # small firms whose nightly register check has not started tonight


def _freeze_clock() -> None:
    """Run at EPOCH + 1 minute, the clock going on from there: the data was written as a
    sweep every 15 s leaves it at EPOCH (reminders sent, nightly checks started), so a
    round finds only the work this bench makes due, whatever day it runs."""
    from django.utils import timezone

    started, base = time.monotonic(), EPOCH + timedelta(minutes=1)
    timezone.now = lambda: base + timedelta(seconds=time.monotonic() - started)


def _sweep_step(fn) -> tuple[float, int, int]:
    """(ms, statements, count returned) of one call."""
    statements: list = []
    began = time.perf_counter()
    count = 0

    def run():
        nonlocal count
        count = fn()

    statements = _captured(run)
    return (time.perf_counter() - began) * 1000, len(statements), count


def _explain_plain(statements: list[tuple]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each distinct SELECT (plain EXPLAIN for writes), with
    how many times the round ran it."""
    from django.db import connection

    seen: dict[str, list] = {}
    for statement, params in statements:
        seen.setdefault(str(statement), [params, 0])[1] += 1
    out = []
    with connection.cursor() as cur:
        for text, (params, times) in seen.items():
            analyze = "(ANALYZE, BUFFERS) " if text.lstrip().upper().startswith("SELECT") else ""
            cur.execute(f"EXPLAIN {analyze}{text}", params)
            plan = "\n".join(row[0] for row in cur.fetchall())
            shown = repr(params)
            shown = shown if len(shown) < 300 else shown[:300] + "…"
            out.append(f"×{times}: {text}\n  -- {shown}\n{plan}\n")
    return "\n".join(out)


def worker_sweep(size: str) -> int:
    _setup(size)
    from django.core.management import call_command
    from django.db import connection, transaction

    from vigie.clients.models import ClientCount
    from vigie.invitations.management.commands.sweep import SWEEPS
    from vigie.invitations.models import Invitation
    from vigie.registries.models import NightlyCheck

    ensure_built(size)
    _freeze_clock()
    steps = [(label, fn) for label, fn in SWEEPS]
    for _label, fn in steps:  # warm; anything due at EPOCH + 1 min is done here
        fn()
    idle = {}
    plans = [f"===== {size}: one round of `vigie sweep`, nothing due =====\n"]
    for label, fn in steps:
        runs = [_sweep_step(fn) for _ in range(SWEEP_RUNS)]
        idle[label] = {
            "ms": statistics.median(r[0] for r in runs),
            "statements": runs[-1][1],
            "count": runs[-1][2],
        }
        plans.append(f"--- {label} ---\n{_explain_plain(_captured(fn))}")
    rounds = []
    for _ in range(SWEEP_RUNS):
        began = time.perf_counter()
        call_command("sweep", stdout=open(os.devnull, "w"))  # noqa: SIM115
        rounds.append((time.perf_counter() - began) * 1000)
    # A round with work due, rolled back: DUE_INVITATIONS invitations of as many firms
    # past their first reminder, DUE_FIRMS small firms' nightly check not started.
    due = {}
    with transaction.atomic():
        now = EPOCH + timedelta(minutes=1)
        picked = list(
            Invitation.objects.filter(status="envoyee", reminders_sent=0)
            .order_by("firm_id", "id")
            .distinct("firm_id")
            .values_list("id", flat=True)[:DUE_INVITATIONS]
        )
        Invitation.objects.filter(pk__in=picked).update(sent_at=now - timedelta(days=8))
        firms = list(
            ClientCount.objects.filter(active__gte=100, active__lte=300)
            .order_by("firm_id")
            .values_list("firm_id", "active")[:DUE_FIRMS]
        )
        NightlyCheck.objects.filter(firm_id__in=[f for f, _ in firms]).update(
            night=now.date() - timedelta(days=1)
        )
        for label, fn in steps:
            ms, statements, count = _sweep_step(fn)
            due[label] = {"ms": ms, "statements": statements, "count": count}
        transaction.set_rollback(True)
    connection.close()
    result = {
        "size": size,
        "idle": idle,
        "round ms": rounds,
        "due": due,
        "due firms": firms,
        "load": os.getloadavg(),
    }
    (VAR / f"scale-sweep-{size}.json").write_text(json.dumps(result))
    (VAR / f"scale-sweep-plans-{size}.txt").write_text("\n".join(plans))
    for label in idle:
        print(
            f"  {size} {label:45} idle {idle[label]['ms']:8.1f} ms "
            f"({idle[label]['statements']} statements) | with work due "
            f"{due[label]['ms']:8.1f} ms ({due[label]['statements']} statements, "
            f"{due[label]['count']} done)",
            flush=True,
        )
    print(
        f"  {size} whole round (vigie sweep), nothing due: p50 {statistics.median(rounds):.1f} ms"
    )
    return 0


def report_sweep(sizes: list[str]) -> None:
    data = {}
    for size in sizes:
        path = VAR / f"scale-sweep-{size}.json"
        if path.exists():
            data[size] = json.loads(path.read_text())
    if not data:
        return
    print("\n=== vigie sweep: each step, ms (statements), nothing due | with work due ===")
    head = f"{'step':45}" + "".join(f"{size + ' idle':>18}{size + ' due':>18}" for size in data)
    print(head)
    print("-" * len(head))
    labels = list(dict.fromkeys(label for d in data.values() for label in d["idle"]))
    for label in labels:
        row = f"{label:45}"
        for d in data.values():
            if label not in d["idle"]:
                row += f"{'–':>18}{'–':>18}"
                continue
            i, w = d["idle"][label], d["due"][label]
            row += f"{i['ms']:9.1f} ({i['statements']:4d}){w['ms']:9.1f} ({w['statements']:4d})"
        print(row)
    row = f"{'whole round, p50':45}"
    for d in data.values():
        row += f"{statistics.median(d['round ms']):16.1f}  {'':18}"
    print(row)
    for size, d in data.items():
        print(
            f"{size}: work due = {DUE_INVITATIONS} reminders, nightly checks of firms "
            f"{d['due firms']} (firm, active clients)"
        )


# -- the other jobs: client page, reform dashboard, exports, an import, a register run ------

JOB_RUNS = 20  # samples of a page case: fewer when it is slow (JOB_BUDGET_S), at least 3
JOB_BUDGET_S = 20.0
# An export or a register run: a few wall times, one only when it takes longer than
# EXPORT_BUDGET_S (the firm of 100,000's, on a loaded 2-core machine: 48 s to 161 s).
EXPORT_RUNS = 3
EXPORT_BUDGET_S = 30.0
IMPORT_RUNS = 3
# The XLSX export of a larger firm only with SCALE_JOBS_XLSX=1: openpyxl writes 100,000
# rows in ~160 s on the loaded 2-core machine (3.4× the CSV), longer than the rest of the
# step together.
XLSX_MAX_CLIENTS = 10_000
IMPORT_ROWS = 200
# (key, label, what its cost should follow). « firm »: the firm's rows (an export of
# 100,000 rows takes 200× the one of 500), « work »: what the job is given (200 rows),
# « flat »: neither. Every case, whatever it follows, should cost the same from the
# smallest database to the largest: the firm and the work are the same.
JOBS = [
    ("client", "page client", "flat"),
    ("reform", "tableau de bord réforme /reforme/", "firm"),
    ("penalties", "pénalités /reforme/penalites/", "firm"),
    ("csv", "export CSV du portefeuille entier", "firm"),
    ("csv_ask", "export CSV demandé (préparé par le worker)", "flat"),
    ("xlsx", "export XLSX du portefeuille entier", "firm"),
    ("import_preview", f"import {IMPORT_ROWS} clients : envoi + aperçu", "work"),
    ("import_apply", f"import {IMPORT_ROWS} clients : lancement + exécution", "work"),
    ("checkall", "vérifier tout le portefeuille : départ", "firm"),
]
SLOWEST = 3  # statements of a case whose plans are written


def _timed(fn) -> tuple[float, list[tuple[float, object, object]]]:
    """(ms, [(ms, statement, params)]) of one call of `fn`."""
    from django.db import connection

    statements: list[tuple[float, object, object]] = []

    def wrapper(execute, statement, params, many, context):
        began = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            statements.append(((time.perf_counter() - began) * 1000, statement, params))

    began = time.perf_counter()
    with connection.execute_wrapper(wrapper):
        fn()
    return (time.perf_counter() - began) * 1000, statements


def _rolled_back(fn):
    """`fn` run in a transaction rolled back: the cached database does not grow."""
    from django.db import transaction

    def run():
        with transaction.atomic():
            fn()
            transaction.set_rollback(True)

    return run


def _sampled(
    fn, *, runs: int, budget: float, warm_up: int, least: int = 1, after=lambda: None
) -> dict:
    """Wall times of `fn` (up to `runs`, at least `least`, no new one after `budget`
    seconds), its statement count and its slowest statements (the last run's); `after`
    runs untimed after each call (what a case must undo before the next)."""
    for _ in range(warm_up):
        fn()
        after()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs and (len(samples) < least or time.perf_counter() - started < budget):
        ms, statements = _timed(fn)
        samples.append(ms)
        after()
    statements.sort(key=lambda s: s[0], reverse=True)
    return {
        "ms": samples,
        "queries": len(statements),
        "sql ms": sum(s[0] for s in statements),
        "slowest": statements[:SLOWEST],
    }


def _plan_text(statement, params) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a SELECT, the bare statement of anything else."""
    from django.db import connection

    text = statement if isinstance(statement, str) else statement.as_string(connection.connection)
    if not text.lstrip().upper().startswith(("SELECT", "WITH")):
        return f"{text[:600]}\n  (a write: not explained)\n"
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {text}", params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    shown = repr(params)
    shown = shown if len(shown) < 300 else shown[:300] + "…"
    return f"{text}\n  -- {shown}\n{plan}\n"


def _vacuum_runs() -> None:
    """A run rolled back leaves its items (2 a client) as dead rows that every later read
    of the table walks until autovacuum comes: clear them, so a case measures the cached
    database, not what the previous case left."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) registries_checkitem, registries_checkrun")


def _import_file(path: Path, offset: int) -> None:
    """IMPORT_ROWS new clients with a contact each (codes « B… »: the firms' are digits)."""
    from bench.import_bench import write_csv

    write_csv(path, IMPORT_ROWS, offset=offset)


def _job_cases(firm, http, files: Path):
    """(case, figures) of each case of JOBS for one firm, through Django's test client in
    process, as each is measured."""
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    from vigie.clients.models import Client
    from vigie.exports.models import PortfolioExport
    from vigie.imports.models import ImportJob
    from vigie.imports.services import import_run
    from vigie.registries.models import UNDER_WAY, CheckRun

    codes = Client.objects.for_firm(firm).active().order_by("id").values_list("code", flat=True)
    code = codes[codes.count() // 2]
    total = Client.objects.for_firm(firm).active().count()

    def get(url: str, expect: int = 200):
        def fn():
            response = http.get(url)
            assert response.status_code == expect, (url, response.status_code)
            if response.streaming:
                return b"".join(response.streaming_content)
            return response.content

        return fn

    def export(fmt: str):
        def fn():
            # The file made in the request, as every export was before vigie.exports (the
            # worker's writing of it above EXPORT_INLINE_MAX_ROWS costs the same).
            with override_settings(EXPORT_INLINE_MAX_ROWS=10**9):
                body = get(f"/portefeuille/export.{fmt}")()
            if fmt == "csv":  # the header, then every client of the firm
                assert body.count(b"\r\n") == total + 1, (body.count(b"\r\n"), total)

        return fn

    def export_ask():
        """« Exporter CSV » as it is now: above the threshold, the toolbar's POST queues
        the export for the worker and answers with its page."""
        with override_settings(EXPORT_INLINE_MAX_ROWS=0):
            response = http.post("/portefeuille/export.csv")
            assert response.status_code == 302, response.status_code

    def export_forget():
        """The export and its task deleted, untimed (the task table has no index on its
        path: among 3,000,000 clients, 400,000 rows of sent invitations to read)."""
        PortfolioExport.objects.for_firm(firm).delete()
        DBTaskResult.objects.filter(task_path="vigie.exports.tasks.prepare_export").delete()

    runs = {"n": 0}
    job_id: dict = {}

    def upload_and_preview():
        runs["n"] += 1
        path = files / f"import-{runs['n']}.csv"
        _import_file(path, offset=9_000_000 + runs["n"] * IMPORT_ROWS)
        with open(path, "rb") as handle:
            response = http.post("/imports/", {"file": handle})
        assert response.status_code == 302, response.content[:500]
        url = response["Location"]
        assert http.get(url).status_code == 200  # the mapping page, its ten rows
        job_id["public"] = url.rstrip("/").rsplit("/", 1)[-1]

    def apply():
        job = ImportJob.objects.for_firm(firm).get(public_id=job_id["public"])
        mapping = {field: str(column) for field, column in job.mapping.items()}
        response = http.post(f"/imports/{job.public_id}/lancer/", mapping)
        assert response.status_code == 302, response.content[:500]
        job = import_run(job_id=job.pk)  # what the worker's run_import task calls
        assert job.created_count == IMPORT_ROWS, (job.created_count, job.rejected_count)
        job.file.delete(save=False)

    # A run under way would make « Vérifier tout » answer that one is, starting nothing.
    assert not CheckRun.objects.for_firm(firm).filter(state__in=UNDER_WAY).exists()

    def check_all():
        response = http.post("/reforme/registres/verifier-tout/")
        assert response.status_code == 302, response.status_code

    page = {"runs": JOB_RUNS, "budget": JOB_BUDGET_S, "warm_up": 1, "least": 3}
    heavy = {"runs": EXPORT_RUNS, "budget": EXPORT_BUDGET_S, "warm_up": 0}
    yield "client", {**_sampled(get(f"/clients/{code}/"), **page), "client code": code}
    yield "reform", _sampled(get("/reforme/"), **page)
    yield "penalties", _sampled(get("/reforme/penalites/"), **page)
    # The import's two halves, each timed alone, in one transaction rolled back per run.
    preview, applied = [], []
    for _ in range(IMPORT_RUNS + 1):  # the first run warms up

        def one():
            preview.append(_sampled(upload_and_preview, runs=1, budget=0, warm_up=0))
            applied.append(_sampled(apply, runs=1, budget=0, warm_up=0))

        _rolled_back(one)()
    for key, parts in (("import_preview", preview[1:]), ("import_apply", applied[1:])):
        yield key, {**parts[-1], "ms": [p["ms"][0] for p in parts]}
    yield "checkall", _sampled(_rolled_back(check_all), **heavy)
    _vacuum_runs()
    yield "csv", _sampled(export("csv"), **heavy)
    yield "csv_ask", _sampled(export_ask, after=export_forget, **page)
    if total <= XLSX_MAX_CLIENTS or os.environ.get("SCALE_JOBS_XLSX") == "1":
        yield "xlsx", _sampled(export("xlsx"), **heavy)


def worker_jobs(size: str) -> int:
    files = VAR / "scale-jobs-files"
    files.mkdir(parents=True, exist_ok=True)
    os.environ["VIGIE_VAR_DIR"] = str(files)
    _setup(size)
    from django.test import Client as HttpClient

    ensure_built(size)
    _vacuum_runs()
    results: dict = {"size": size, "database size": _database_size(), "firms": {}}
    plans = []
    for key, name in (("big", BIG_FIRM), ("small", SMALL_FIRM)):
        firm, user = _firm_and_user(name)
        http = HttpClient()
        http.force_login(user)
        firm_results = {"name": name, "clients": firm.clients.count(), "cases": {}}
        for case, values in _job_cases(firm, http, files):
            label, follows = next((lb, f) for c, lb, f in JOBS if c == case)
            plans.append(f"===== {size} · {name} · {label} ({values['queries']} statements) =====")
            for ms, statement, params in values.pop("slowest"):
                plans.append(f"--- {ms:.1f} ms")
                plans.append(_plan_text(statement, params))
            firm_results["cases"][case] = {"label": label, "follows": follows, **values}
            samples = values["ms"]
            print(
                f"  {size} {key:5} {label:52} p50 {statistics.median(samples):9.1f} "
                f"p95 {_percentile(samples, 0.95):9.1f} ms ({len(samples)} runs, "
                f"{values['queries']} statements, {values['sql ms']:.0f} ms in SQL)",
                flush=True,
            )
            (VAR / f"scale-jobs-plans-{size}.txt").write_text("\n".join(plans))
        results["firms"][key] = firm_results
    results["load"] = os.getloadavg()
    (VAR / f"scale-jobs-{size}.json").write_text(json.dumps(results))
    (VAR / f"scale-jobs-plans-{size}.txt").write_text("\n".join(plans))
    return 0


def report_jobs(sizes: list[str]) -> bool:
    """The table case × size for both firms, the ratio largest / smallest against
    TARGET_RATIO; True when every case is within it."""
    data = {}
    for size in sizes:
        path = VAR / f"scale-jobs-{size}.json"
        if path.exists():
            data[size] = json.loads(path.read_text())
    if not data:
        return False
    first, last = next(iter(data)), list(data)[-1]
    ok, lines = True, []
    for key in ("big", "small"):
        firm = data[first]["firms"][key]
        lines.append(
            f"\n=== {key} firm ({firm['name']}: {firm['clients']:,} clients): wall time p50 / p95"
            " (runs, statements), ms ==="
        )
        head = f"{'case':52}{'follows':>8}" + "".join(f"{size:>30}" for size in data)
        head += f"{'p50 ratio':>10}{'p95 ratio':>10}"
        lines.append(head)
        lines.append("-" * len(head))
        for case, label, follows in JOBS:
            if any(case not in d["firms"][key]["cases"] for d in data.values()):
                lines.append(f"{label:52}{follows:>8}  not measured (SCALE_JOBS_XLSX=1)")
                continue
            row = f"{label:52}{follows:>8}"
            for d in data.values():
                v = d["firms"][key]["cases"][case]
                cell = (
                    f"{statistics.median(v['ms']):.1f} / {_percentile(v['ms'], 0.95):.1f} "
                    f"({len(v['ms'])}, {v['queries']})"
                )
                row += f"{cell:>30}"
            a = data[first]["firms"][key]["cases"][case]["ms"]
            b = data[last]["firms"][key]["cases"][case]["ms"]
            r50 = statistics.median(b) / statistics.median(a)
            r95 = _percentile(b, 0.95) / _percentile(a, 0.95)
            row += f"{r50:9.2f}×{r95:9.2f}×"
            lines.append(row)
            if r50 > TARGET_RATIO:
                ok = False
                lines.append(f"  [FAIL] {label}: {first} → {last} {r50:.2f}× (≤ {TARGET_RATIO}×)")
    lines.append("\n=== big firm / small firm, p50 (a « firm » case should be far above 1) ===")
    for case, label, follows in JOBS:
        if any(case not in d["firms"][k]["cases"] for d in data.values() for k in d["firms"]):
            continue
        row = f"{label:52}{follows:>8}"
        for d in data.values():
            big = statistics.median(d["firms"]["big"]["cases"][case]["ms"])
            small = statistics.median(d["firms"]["small"]["cases"][case]["ms"])
            row += f"{big / small:28.1f}× "
        lines.append(row)
    print("\n".join(lines))
    loads = ", ".join(
        f"{size}: {'/'.join(f'{v:.2f}' for v in d['load'])}" for size, d in data.items()
    )
    print(f"\nLoad average at the end of each size's run (1/5/15 min): {loads}")
    print(f"Plans: {', '.join(str(VAR / f'scale-jobs-plans-{size}.txt') for size in data)}")
    print(
        f"Checks: {'all passed' if ok else 'some failed'} (ratio {first} → {last} ≤ "
        f"{TARGET_RATIO}×, p50)"
    )
    return ok


# -- open-model load over many firms (child process, one database) -------------------------

LOAD_FIRMS = {"big": 10, "medium": 290, "small": 700}  # at most (1,000); as each one's admin
# Share of the requests going to each kind of firm, and the mix within a firm (GET only:
# load/run.py's portfolio pages, searches and client pages, without its contact edits).
LOAD_SHARES = {"big": 30, "medium": 40, "small": 30}
LOAD_MIX = {"portfolio": 60, "search": 20, "client": 20}
LOAD_REQUESTS = 6000


def _load_payloads(rng: random.Random) -> tuple[list[tuple[str, bytes]], dict]:
    """Raw HTTP/1.1 requests (load/open.py's form), each with its firm's session."""
    from django.conf import settings
    from django.test import Client as HttpClient

    from bench.generate import LAST_NAMES
    from vigie.clients.models import Client, ClientCount
    from vigie.firms.models import Firm
    from vigie.lib.text import fold

    counts = dict(ClientCount.objects.values_list("firm_id", "active"))
    groups = {
        "big": [f for f, n in counts.items() if n >= BIG],
        "medium": [f for f, n in counts.items() if 1_000 <= n < BIG],
        "small": [f for f, n in counts.items() if n < 1_000],
    }
    chosen = {k: rng.sample(sorted(v), min(len(v), LOAD_FIRMS[k])) for k, v in groups.items()}
    sessions, codes = {}, {}
    for firm_ids in chosen.values():
        for firm_id in firm_ids:
            firm, user = _firm_and_user(Firm.objects.get(pk=firm_id).name)
            http = HttpClient()
            http.force_login(user)
            sessions[firm_id] = http.cookies[settings.SESSION_COOKIE_NAME].value
            codes[firm_id] = list(
                Client.objects.filter(firm_id=firm_id)
                .order_by("?")
                .values_list("code", flat=True)[:50]
            )
    out = []
    kinds = [k for k, share in LOAD_SHARES.items() for _ in range(share)]
    mix = [k for k, share in LOAD_MIX.items() for _ in range(share)]
    for _ in range(LOAD_REQUESTS):
        firm_id = rng.choice(chosen[rng.choice(kinds)])
        kind, extra = rng.choice(mix), ""
        if kind == "portfolio":
            pages = max(1, counts[firm_id] // 10)
            query = {"view": rng.choice(["equipement", "collecte"]), "page": rng.randint(1, pages)}
            target = "/?" + "&".join(f"{k}={v}" for k, v in query.items())
            if rng.random() >= 0.2:  # htmx navigation in the page; one in five a full page
                extra = "HX-Request: true\r\nHX-Current-URL: http://127.0.0.1/\r\n"
        elif kind == "search":
            target = f"/?q={fold(rng.choice(LAST_NAMES)).split()[0]}"
            extra = "HX-Request: true\r\nHX-Current-URL: http://127.0.0.1/\r\n"
        else:
            target = f"/clients/{rng.choice(codes[firm_id])}/"
        head = (
            f"GET {target} HTTP/1.1\r\nHost: HOST\r\n"
            f"Cookie: {settings.SESSION_COOKIE_NAME}={sessions[firm_id]}\r\n"
            f"Connection: keep-alive\r\n{extra}\r\n"
        )
        out.append(("search" if kind == "search" else kind, head.encode()))
    return out, {k: len(v) for k, v in chosen.items()}


def _prewarm() -> None:
    """Every table and index read once into the OS's cache (pg_prewarm's « read »), as a
    server that has been up a while holds its working set: otherwise the first minutes
    measure the disk (8.5 GB among 3,000,000 clients), not the code. The machine needs
    the memory for it; SCALE_LOAD_PREWARM=0 measures cold."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        cursor.execute(
            "SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't', 'm')"
        )
        blocks = cursor.fetchone()[0]
    print(
        f"  prewarmed {blocks * 8 / 1024:,.0f} MB in {time.perf_counter() - began:.0f} s",
        flush=True,
    )


def worker_load(size: str) -> int:
    import asyncio

    _setup(size)
    from load import open as open_model

    ensure_built(size)
    payloads, firms = _load_payloads(random.Random(5))
    env = {
        **os.environ,
        "DATABASE_URL": os.environ["SCALE_DB_URL"],
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
        "VIGIE_VAR_DIR": str(VAR / "scale-load-files"),
    }
    if os.environ.get("SCALE_LOAD_PREWARM", "1") != "0":
        _prewarm()
    proc, url = open_model.start_gunicorn(ROOT, env, workers=4, threads=1)
    args = argparse.Namespace(
        start=float(os.environ.get("SCALE_LOAD_START", "20")),
        warm_up=float(os.environ.get("SCALE_LOAD_WARM_UP", "20")),
        step_seconds=15.0,
        max=2000.0,
        bisect=3,
        connections=512,
    )
    print(f"  {size}: open model over {firms} firms (big, medium, small) at {url}", flush=True)
    try:
        result = asyncio.run(open_model.search(url, payloads, args, proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    result["firms"] = firms
    result["load"] = os.getloadavg()
    (VAR / f"scale-load-{size}.json").write_text(json.dumps(result))
    return 0


# -- orchestrator --------------------------------------------------------------------------


def _child(action: str, size: str, extra: list[str] | None = None) -> int:
    from bench.db import database_url

    env = {**os.environ, "SCALE_DB_URL": database_url(_db_name(size))}
    cmd = [sys.executable, __file__, "--worker", action, "--size", size, *(extra or [])]
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=os.environ.get("SCALE_SIZES", "300k,1m,3m"))
    parser.add_argument("--only", choices=["build", "pages", "jobs", "sweep", "load"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return WORKERS[args.worker](args)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}: {', '.join(SIZES)}")
    VAR.mkdir(parents=True, exist_ok=True)
    failed = False
    for size in sizes:
        extra = ["--rebuild"] if args.rebuild else []
        if _child("build", size, extra):
            print(f"{size}: the build failed.")
            return 1
    if args.only in (None, "pages"):
        for round_ in range(args.rounds):
            for size in sizes:
                failed |= bool(_child("pages", size, ["--round", str(round_)]))
        failed |= not report_pages(sizes, args.rounds)
    if args.only in (None, "jobs"):
        for size in sizes:
            failed |= bool(_child("jobs", size))
        failed |= not report_jobs(sizes)
    if args.only in (None, "sweep"):
        for size in sizes:
            failed |= bool(_child("sweep", size))
        report_sweep(sizes)
    if args.only == "load" or args.load:
        for size in sizes:
            failed |= bool(_child("load", size))
        report_load(sizes)
    report_builds(sizes)
    return 1 if failed else 0


def report_load(sizes: list[str]) -> None:
    print(
        "\n=== Open model (load/open.py), requests over many firms: highest rate with p95 ≤ 100 ms ==="
    )
    for size in sizes:
        path = VAR / f"scale-load-{size}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        s = r["best_step"]
        kinds = ", ".join(
            f"{k} {a:.0f}/{b:.0f}" for k, (a, b) in sorted((s or {}).get("kinds", {}).items())
        )
        figures = (
            f"p50 {s['p50']:.1f} / p95 {s['p95']:.1f} ms; by kind p50/p95: {kinds}" if s else "–"
        )
        print(
            f"{size}: {r['best']:.1f}/s ({figures}); firms {r['firms']}; "
            f"gunicorn CPU/request {(s or {}).get('server_ms') or 0:.1f} ms; "
            f"load average at the end {'/'.join(f'{v:.2f}' for v in r['load'])}"
        )


def report_builds(sizes: list[str]) -> None:
    print("\n=== Builds ===")
    for size in sizes:
        if not _marker(size).exists():
            continue
        built = json.loads(_marker(size).read_text())
        phases = ", ".join(f"{k} {v:.0f} s" for k, v in built.get("phases", {}).items())
        print(f"{size}: {built.get('seconds', 0):.0f} s ({phases}); {built.get('database size')}")
        print(f"  {json.dumps(built.get('made'))}")


WORKERS = {
    "build": lambda a: worker_build(a.size, a.rebuild),
    "pages": lambda a: worker_pages(a.size, a.round),
    "jobs": lambda a: worker_jobs(a.size),
    "sweep": lambda a: worker_sweep(a.size),
    "load": lambda a: worker_load(a.size),
}


if __name__ == "__main__":
    sys.exit(main())

"""A fast generator of large portfolios for the bench: raw inserts in big batches.

Rows look like the demo's (vigie/demo/data.py) — French names, valid SIRETs,
about 2 contacts, 1.5 assigned collaborators and 1.2 equipment rows per client —
but are written straight to the tables (COPY)
with the secondary indexes dropped during the load and rebuilt after it.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from faker.providers.person.fr_FR import Provider as FrenchNames
from stdnum import luhn

from vigie.accounts.models import User
from vigie.clients import directory, rowversion, searchdoc
from vigie.clients.counts import recount
from vigie.clients.models import Client, ClientAssignment, Contact, PaStatus
from vigie.demo.data import draw_mandate, draw_pa
from vigie.equipment.models import Equipment, Solution
from vigie.firms.models import Firm, Membership, Role
from vigie.lib.text import fold as _fold

LAST_NAMES = list(FrenchNames.last_names)
FIRST_NAMES = list(FrenchNames.first_names)
TRADES = [
    "Boulangerie",
    "Garage",
    "Menuiserie",
    "Plomberie",
    "Transports",
    "Pharmacie",
    "Restaurant",
    "Boucherie",
    "Coiffure",
    "Électricité",
    "Maçonnerie",
    "Librairie",
    "Optique",
    "Immobilier",
    "Conseil",
    "Peinture",
    "Traiteur",
    "Informatique",
    "Épicerie",
    "Atelier",
]
FORMS = ["SARL", "SAS", "SASU", "EURL", "EI", "MICRO", "SCI", "AUCUNE"]
ACHAT = ["cegid-quadra", "cegid-business", "abby", "axonaut", "pennylane", "tiime", "ebp"]
VENTE = ["cegid-devis-factures", "bim", "henrri", "freebe", "evoliz", "sellsy", "pennylane"]
CAISSE = ["cegid-point-de-vente", "apisoft", "elo-touch", "sumup", "zettle"]
PA_NAMES = ["Shine", "Cegid Flow", "Pennylane", "Docaposte"]
BENCH_PASSWORD = "bench-vigie"
BATCH = 20_000

# Names repeat a lot; codes, SIRETs and generated emails are already folded.
fold = lru_cache(maxsize=100_000)(_fold)


def _columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _defaults(model) -> dict:
    out = {}
    for f in model._meta.concrete_fields:
        if f.has_default() and not callable(f.default):
            out[f.column] = f.default
        elif f.null:
            out[f.column] = None
        else:
            out[f.column] = ""
    return out


class Loader:
    """Writes tuples to a table, COPY or executemany, in batches."""

    def __init__(self, model):
        self.table = model._meta.db_table
        self.columns = _columns(model)
        self.defaults = _defaults(model)
        self.pending: list[tuple] = []
        self.written = 0

    def add(self, values: dict) -> None:
        d = self.defaults
        self.pending.append(tuple(values[c] if c in values else d[c] for c in self.columns))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with connection.connection.cursor() as cur:
            with cur.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
                for row in self.pending:
                    copy.write_row(row)
        self.written += len(self.pending)
        self.pending = []


def _siret(rng: random.Random) -> str:
    body = f"{rng.randrange(10**7, 10**8):08d}"
    siren = body + luhn.calc_check_digit(body)
    partial = siren + f"{rng.randrange(1, 10000):04d}"
    return partial + luhn.calc_check_digit(partial)


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes and triggers a bulk load can drop."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [tables],
        )
        return [(f"index:{name}", sql) for name, sql in cur.fetchall()]


def _drop(items: list[tuple[str, str]]) -> None:
    with connection.cursor() as cur:
        for key, _sql in items:
            kind, name = key.split(":", 1)
            cur.execute(f"DROP {kind.upper()} {name}")


def _create(items: list[tuple[str, str]]) -> None:
    with connection.cursor() as cur:
        for _key, sql in items:
            cur.execute(sql)


def build(*, firms: int, clients_per_firm: int, seed: int = 7, log=print) -> dict:
    """Create `firms` firms of `clients_per_firm` clients. Returns what was made."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    stamp = now
    solutions = {s.slug: s.id for s in Solution.objects.all()}
    password = make_password(BENCH_PASSWORD)
    tables = [
        Client._meta.db_table,
        Contact._meta.db_table,
        ClientAssignment._meta.db_table,
        Equipment._meta.db_table,
    ]

    def uid():
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    started = time.perf_counter()
    firm_rows = []
    with transaction.atomic():
        for f in range(firms):
            firm = Firm.objects.create(name=f"Bench {f}")
            users = []
            for u in range(8):
                user = User.objects.create(
                    email=f"bench{f}-{u}@bench.test",
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    password=password,
                    is_staff=(u == 0),
                    is_superuser=(u == 0),
                )
                Membership.objects.create(
                    user=user, firm=firm, role=Role.ADMIN if u == 0 else Role.COLLABORATOR
                )
                users.append(user.id)
            firm_rows.append((firm.id, users))

    dropped = _secondary_indexes(tables)
    _drop(dropped)
    clients, contacts, assignments, equipment = (
        Loader(Client),
        Loader(Contact),
        Loader(ClientAssignment),
        Loader(Equipment),
    )
    client_id = contact_id = assignment_id = equipment_id = 0
    email_seq = 0
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
        for firm_id, users in firm_rows:
            for n in range(clients_per_firm):
                client_id += 1
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
                clients.add(
                    {
                        "id": client_id,
                        "firm_id": firm_id,
                        "public_id": uid(),
                        "code": code,
                        "name": name,
                        "legal_form": form,
                        "siret": siret,
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
                        "shine_status": rng.choice(["active", "active", "envoyee"])
                        if shine
                        else "",
                        "sort_name": fold(name),
                        "search_text": f"{fold(name)} {code.lower()} {siret}".rstrip(),
                        "created_at": stamp,
                        "updated_at": stamp,
                        "docs_to_file": 0,
                    }
                )
                n_contacts = rng.choices((0, 1, 2, 3, 4), (10, 25, 35, 20, 10))[0]
                domain = f"{fold(last).replace(' ', '-')}-{code}.fr"
                for i in range(n_contacts):
                    contact_id += 1
                    email_seq += 1
                    first, clast = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    email = f"{fold(first)}.{fold(clast)}.{email_seq}@{domain}".replace(" ", "-")
                    person = fold(f"{first} {clast}")
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
                            "search_text": f"{person} {email}",
                            "created_at": stamp,
                            "updated_at": stamp,
                        }
                    )
                if rng.random() < 0.85:
                    for user_id in rng.sample(users, rng.choice((1, 1, 2, 2, 3))):
                        assignment_id += 1
                        assignments.add(
                            {
                                "id": assignment_id,
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
                for slot, slug, plan in slots:
                    equipment_id += 1
                    equipment.add(
                        {
                            "id": equipment_id,
                            "firm_id": firm_id,
                            "client_id": client_id,
                            "solution_id": solutions[slug],
                            "slot": slot,
                            "plan": plan,
                            "created_at": stamp,
                            "created_by_id": None,
                        }
                    )
            log(
                f"  firm {firm_id}: {client_id} clients so far ({time.perf_counter() - started:.0f} s)"
            )
        for loader in (clients, contacts, assignments, equipment):
            loader.flush()
    log(f"  rows written in {time.perf_counter() - started:.0f} s; rebuilding indexes")
    _create(dropped)
    recount()  # the triggers of vigie.clients.counts were off during the load
    rowversion.backfill()  # and those of vigie.clients.rowversion
    directory.backfill()  # and vigie.clients.directory's
    searchdoc.backfill()  # and vigie.clients.searchdoc's
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        # VACUUM cannot run in a transaction; it sets the visibility map for index-only scans.
        for table in tables:
            cur.execute(f"VACUUM ANALYZE {table}")
    log(f"  built in {time.perf_counter() - started:.0f} s")
    return {
        "clients": client_id,
        "contacts": contact_id,
        "assignments": assignment_id,
        "equipment": equipment_id,
    }

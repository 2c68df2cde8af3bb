"""The demo portfolio: deterministic, shaped like the guide's (4,537 clients).

Built with bulk inserts so `demo` runs in seconds; every row is what the services
would have written (keys, normalised emails and phones, valid SIRETs).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from vigie.accounts.models import User
from vigie.clients.models import (
    Access,
    Client,
    ClientAssignment,
    ClientEvent,
    Contact,
    LegalForm,
    MandateStatus,
    PaStatus,
    ShineStatus,
)
from vigie.equipment.models import Equipment, Slot, Solution
from vigie.firms.models import Firm, Membership, Role
from vigie.invitations.models import BillingMode, Invitation, Plan, SendMethod, Status
from vigie.lib.text import fold
from vigie.lib.validators import make_siret, normalize_phone

DEMO_FIRM = "Cabinet Démonstration"
WITNESS_FIRM = "Cabinet Témoin"
DEMO_PASSWORD = "demo-vigie"
DEMO_EMAIL = "demo@cabinet-demo.fr"
WITNESS_EMAIL = "temoin@cabinet-temoin.fr"
DEMO_CLIENTS = 4537
WITNESS_CLIENTS = 50

COLLABORATORS = [
    (DEMO_EMAIL, "Dominique", "Martin", Role.ADMIN),
    ("valerie.arnaud@cabinet-demo.fr", "Valérie", "Arnaud", Role.COLLABORATOR),
    ("christophe.thomas@cabinet-demo.fr", "Christophe", "Thomas", Role.COLLABORATOR),
    ("julie.andre@cabinet-demo.fr", "Julie", "André", Role.COLLABORATOR),
    ("thierry.petit@cabinet-demo.fr", "Thierry", "Petit", Role.COLLABORATOR),
    ("sophie.garnier@cabinet-demo.fr", "Sophie", "Garnier", Role.COLLABORATOR),
]
WITNESS_COLLABORATORS = [
    (WITNESS_EMAIL, "Thomas", "Émond", Role.ADMIN),
    ("lea.bernard@cabinet-temoin.fr", "Léa", "Bernard", Role.COLLABORATOR),
]


@dataclass
class GuideRow:
    """A client shown in the guide's screenshots."""

    code: str
    name: str
    legal_form: str = LegalForm.AUCUNE
    contacts: int = 0
    contact_names: list[tuple[str, str, str, str]] = field(default_factory=list)
    achat: str = ""
    vente: str = ""
    caisse: str = ""
    plan: str = ""
    siret: str | None = None  # None: generate one
    mandate: str = MandateStatus.NONE
    pa: str = PaStatus.ABSENT
    sensitised: bool = False
    reception: str = ""
    collect_email: bool = False
    principal: bool = True


GUIDE_ROWS = [
    GuideRow(
        "000000",
        "RECUP SAUVEGARDE",
        contacts=13,
        achat="cegid-quadra",
        vente="cegid-devis-factures",
        caisse="cegid-point-de-vente",
        mandate=MandateStatus.SENT,
        reception="Cegid Quadra",
    ),
    GuideRow(
        "000001",
        "CABINET PILOT",
        LegalForm.SARL,
        contacts=14,
        achat="cegid-business",
        vente="bim",
        caisse="cegid-point-de-vente",
        pa=PaStatus.INVITED,
        sensitised=True,
        reception="Shine Plus",
        collect_email=True,
    ),
    GuideRow(
        "000002",
        "SIE D'AIX EN PROVENCE NORD",
        contacts=13,
        achat="shine",
        vente="shine",
        plan="plus",
        caisse="apisoft",
        mandate=MandateStatus.SENT,
        pa=PaStatus.INVITED,
        reception="Shine Plus",
    ),
    GuideRow(
        "000003",
        "ECKHOUT Pascal Et Frères Update Name",
        LegalForm.SARL,
        contacts=9,
        achat="shine",
        vente="shine",
        plan="plus",
        pa=PaStatus.INVITED,
        reception="Shine Plus",
    ),
    GuideRow(
        "000004",
        "TEST",
        contacts=4,
        achat="shine",
        vente="shine",
        plan="start",
        reception="Shine Plus",
    ),
    GuideRow(
        "000006",
        "Mon client",
        contacts=2,
        mandate=MandateStatus.SENT,
        sensitised=True,
        reception="Shine Plus",
        collect_email=True,
    ),
    GuideRow(
        "000007",
        "CONTACT PERMIS",
        contacts=22,
        achat="shine",
        vente="shine",
        plan="plus",
        caisse="elo-touch",
        sensitised=True,
        reception="Shine Plus",
    ),
    GuideRow(
        "00000A",
        "T.C.S. BERENGER",
        contact_names=[("THOMAS", "BERENGER", "berenger-thomas@tcs-berenger.fr", "admin")],
        achat="shine",
        vente="shine",
        plan="plus",
        reception="Shine Plus",
        collect_email=True,
    ),
    GuideRow(
        "00000C",
        "ORIGINAL2",
        contacts=2,
        achat="shine",
        vente="shine",
        plan="easy",
        mandate=MandateStatus.SENT,
        sensitised=True,
        reception="Shine Plus",
    ),
    GuideRow(
        "000010",
        "NG Essai",
        contact_names=[("JIM", "NIANG", "jim.niang@ng-essai.fr", "admin")],
        achat="shine",
        vente="shine",
        plan="easy",
        sensitised=True,
    ),
    GuideRow("000203", "MODUL'AIR", contacts=3),
    GuideRow(
        "000246",
        "CABINET DENTAIRE DE L'OASIS",
        siret="84523656100013",
        principal=False,
        contact_names=[
            ("Mon client", "contact 1", "contact1@email.com", "admin"),
            ("Mon client", "contact 2", "contact2@email.com", "utilisateur"),
        ],
    ),
    GuideRow(
        "00ALMO", "ALMO", contact_names=[("", "chris", "chris@almo.fr", "admin")], principal=False
    ),
    GuideRow("01TEST1", "Mon client", siret="80826415400010"),
    GuideRow(
        "105343",
        "CB Paie",
        contact_names=[("cbc15", "inte", "cbc15.inte@cbpaie.fr", "admin")],
        principal=False,
    ),
    GuideRow("1432181T3", "1432181T3", siret=""),
    GuideRow("1607055T1", "CEGID"),
    GuideRow("17396", "SCI HAUT DE GAMME"),
    GuideRow("16GRAND", "GRAND TRAITEUR"),
    GuideRow(
        "201290",
        "COMITE SOCIAL ET ECONOMIQUE CGSS",
        contact_names=[
            ("", "nghanem", "nghanem@yopmail.com", "admin"),
            ("", "nghanem2", "nghanem+alias1@yopmail.com", "utilisateur"),
        ],
        achat="shine",
        vente="shine",
        plan="start",
    ),
]

TRADES = [
    "Boulangerie",
    "Garage",
    "Menuiserie",
    "Plomberie",
    "Transports",
    "Pharmacie",
    "Cabinet",
    "Restaurant",
    "Boucherie",
    "Coiffure",
    "Électricité",
    "Maçonnerie",
    "Fleurs",
    "Librairie",
    "Optique",
    "Immobilier",
    "Conseil",
    "Peinture",
    "Traiteur",
    "Paysages",
    "Informatique",
    "Auto-école",
    "Charpente",
    "Épicerie",
    "Studio",
    "Atelier",
    "Ambulances",
    "Taxi",
]
FORMS_WEIGHTED = [
    (LegalForm.SARL, 26),
    (LegalForm.SAS, 18),
    (LegalForm.SASU, 12),
    (LegalForm.EURL, 10),
    (LegalForm.EI, 12),
    (LegalForm.MICRO, 6),
    (LegalForm.SCI, 7),
    (LegalForm.AUCUNE, 4),
    (LegalForm.EARL, 2),
    (LegalForm.SNC, 1),
    (LegalForm.SA, 1),
    (LegalForm.ASSOCIATION, 1),
]
APE = [
    "47.24Z",
    "45.20A",
    "43.32A",
    "43.22A",
    "49.41A",
    "47.73Z",
    "69.20Z",
    "56.10A",
    "47.22Z",
    "96.02A",
    "43.21A",
    "43.99C",
    "47.76Z",
    "47.61Z",
    "47.78A",
    "68.31Z",
    "70.22Z",
    "62.01Z",
]
ACHAT_OTHERS = [
    "cegid-quadra",
    "cegid-business",
    "abby",
    "axonaut",
    "pennylane",
    "tiime",
    "sellsy",
    "ebp",
    "quickbooks",
    "cegid-quadra-gestion-interne",
    "daxt",
    "compleo-invoice-platform",
    "microsoft-excel",
    "non-concerne",
]
VENTE_OTHERS = [
    "cegid-devis-factures",
    "cegid-business",
    "abby",
    "axonaut",
    "bim",
    "henrri",
    "freebe",
    "evoliz",
    "sellsy",
    "pennylane",
    "microsoft-excel",
    "non-concerne",
]
CAISSE = ["cegid-point-de-vente", "apisoft", "elo-touch", "sumup", "zettle", "lightspeed"]
RECEPTION = ["Cegid Quadra", "Pennylane", "Tiime", "Email de collecte"]
FLUX = ["Email de collecte", "Dépôt manuel", "Connecteur", "Cegid Quadra"]
BANKS = ["Bridge", "Budget Insight", "Qonto", "EBICS"]
PAIE = ["Silae", "Cegid Paie", "Sage Paie", "PayFit"]
PA_NAMES = ["Shine", "Cegid Flow", "Pennylane", "Docaposte", "Sage Network"]


def draw_mandate(rng: random.Random) -> str:
    """A mandate state with the portfolio's mix: 10 % signed, 20 % sent."""
    roll = rng.random()
    return (
        MandateStatus.SIGNED
        if roll < 0.1
        else MandateStatus.SENT
        if roll < 0.3
        else MandateStatus.NONE
    )


def draw_pa(rng: random.Random) -> str:
    """A PA registration state: 10 % registered, 15 % invited."""
    roll = rng.random()
    return (
        PaStatus.REGISTERED if roll < 0.1 else PaStatus.INVITED if roll < 0.25 else PaStatus.ABSENT
    )


ADDRESS_POOL = 500  # streets, and as many postal codes and towns, combined per client
WITH_ADDRESS = 0.9


@dataclass
class Addresses:
    """Head-office addresses drawn from pools made once by a Faker and a generator of their
    own: building them costs 50 µs per address, and the demo's other values stay those
    of its seed."""

    rng: random.Random
    streets: list[str]
    towns: list[tuple[str, str]]

    @classmethod
    def seeded(cls, seed: int) -> Addresses:
        faker = Faker("fr_FR")
        faker.seed_instance(seed)
        streets = [faker.street_address() for _ in range(ADDRESS_POOL)]
        towns = [(faker.postcode(), faker.city()) for _ in range(ADDRESS_POOL)]
        return cls(random.Random(seed), streets, towns)

    def draw(self) -> dict[str, str]:
        if self.rng.random() >= WITH_ADDRESS:
            return {}
        postal_code, city = self.rng.choice(self.towns)
        return {"address": self.rng.choice(self.streets), "postal_code": postal_code, "city": city}


class Builder:
    """Accumulates rows for one firm, then writes them in bulk."""

    def __init__(
        self,
        firm: Firm,
        users: list[User],
        rng: random.Random,
        faker: Faker,
        solutions: dict,
        addresses: Addresses,
    ):
        self.firm = firm
        self.users = users
        self.rng = rng
        self.faker = faker
        self.solutions = solutions
        self.addresses = addresses
        self.clients: list[Client] = []
        self.contacts: list[Contact] = []
        self.assignments: list[tuple[Client, User]] = []
        # A solution declared twice in a client's slot counts once (unsaved clients are
        # unhashable: keyed by identity).
        self.equipment: dict[tuple[int, str, str], tuple[Client, str, str, str]] = {}
        self.invitations: list[tuple[Client, Contact, str]] = []
        self.now = timezone.now()
        self.email_seq = 0

    # -- identifiers ---------------------------------------------------------------
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def siret(self) -> str:
        while True:
            body = f"{self.rng.randrange(10**7, 10**8):08d}"
            if not body.startswith("356000"):  # La Poste's SIREN follows other rules
                return make_siret(body, f"{self.rng.randrange(1, 10000):04d}")

    def phone(self) -> str:
        while True:
            raw = (
                "+33"
                + self.rng.choice("67")
                + "".join(self.rng.choice("0123456789") for _ in range(8))
            )
            try:
                return normalize_phone(raw)
            except Exception:  # noqa: BLE001 - invalid ranges are simply redrawn
                continue

    def email_for(self, first: str, last: str, domain: str) -> str:
        self.email_seq += 1
        local = (
            ".".join(p for p in (fold(first), fold(last)) if p).replace(" ", "-").replace("'", "")
        )
        return f"{local}.{self.email_seq}@{domain}"

    # -- rows ------------------------------------------------------------------------
    def add_client(self, *, code: str, name: str, legal_form: str, siret: str, **extra) -> Client:
        client = Client(
            firm=self.firm,
            public_id=self.uuid(),
            code=code,
            name=name,
            legal_form=legal_form,
            siret=siret,
            **self.addresses.draw(),
            **extra,
        )
        client.refresh_keys()
        self.clients.append(client)
        return client

    def add_contact(
        self,
        client: Client,
        first: str,
        last: str,
        email: str,
        access: str,
        principal: bool,
        phone: str = "",
    ) -> Contact:
        contact = Contact(
            firm=self.firm,
            client=client,
            public_id=self.uuid(),
            first_name=first,
            last_name=last,
            email=email.lower(),
            phone=phone,
            access=access,
            is_principal=principal,
        )
        contact.refresh_keys()
        self.contacts.append(contact)
        return contact

    def add_random_contacts(
        self, client: Client, count: int, domain: str, principal: bool
    ) -> list[Contact]:
        made = []
        for i in range(count):
            first, last = self.faker.first_name(), self.faker.last_name()
            has_email = self.rng.random() < 0.9 or (principal and i == 0)
            made.append(
                self.add_contact(
                    client,
                    first,
                    last,
                    self.email_for(first, last, domain) if has_email else "",
                    Access.ADMIN
                    if i == 0
                    else self.rng.choice([Access.USER, Access.USER, Access.ADMIN]),
                    principal and i == 0,
                    self.phone() if self.rng.random() < 0.75 else "",
                )
            )
        return made

    def assign(self, client: Client, count: int) -> None:
        for user in self.rng.sample(self.users, min(count, len(self.users))):
            self.assignments.append((client, user))

    def equip(self, client: Client, slot: str, slug: str, plan: str = "") -> None:
        self.equipment.setdefault((id(client), slot, slug), (client, slot, slug, plan))

    def shine(self, client: Client, contact: Contact, plan: str, status: str) -> None:
        self.equip(client, Slot.ACHAT, "shine", Plan(plan).label)
        self.equip(client, Slot.VENTE, "shine", Plan(plan).label)
        client.shine_status = status
        self.invitations.append((client, contact, plan))

    # -- write -----------------------------------------------------------------------
    def save(self) -> None:
        # Each contact's client_id is filled from its client, saved just before.
        Client.objects.bulk_create(self.clients, batch_size=1000)
        Contact.objects.bulk_create(self.contacts, batch_size=1000)
        ClientAssignment.objects.bulk_create(
            [ClientAssignment(firm=self.firm, client=c, user=u) for c, u in self.assignments],
            batch_size=1000,
        )
        Equipment.objects.bulk_create(
            [
                Equipment(
                    firm=self.firm, client=c, slot=slot, solution=self.solutions[slug], plan=plan
                )
                for c, slot, slug, plan in self.equipment.values()
            ],
            batch_size=1000,
        )
        status_map = {
            ShineStatus.ACTIVATED: Status.ACTIVATED,
            ShineStatus.SENT: Status.SENT,
            ShineStatus.FAILED: Status.FAILED,
        }
        invitations = []
        for client, contact, plan in self.invitations:
            status = status_map[client.shine_status]
            # Still-pending invitations are recent: the sweeper's first pass must not
            # expire or remind the demo's whole portfolio.
            days = (
                self.rng.randrange(2, 200)
                if status == Status.ACTIVATED
                else self.rng.randrange(0, 6)
            )
            sent_at = self.now - timedelta(days=days, hours=1)
            invitations.append(
                Invitation(
                    firm=self.firm,
                    client=client,
                    contact=contact,
                    email=contact.email,
                    plan=plan,
                    billing_mode=self.rng.choice([BillingMode.SHINE, BillingMode.CABINET]),
                    status=status,
                    send_method=SendMethod.VIGIE,
                    attempts=1,
                    subject="Activez votre compte Shine",
                    created_by=self.rng.choice(self.users),
                    sent_at=sent_at if status != Status.FAILED else None,
                    activated_at=sent_at + timedelta(days=2)
                    if status == Status.ACTIVATED
                    else None,
                    message_id=f"<{self.uuid()}@vigie.demo>",
                )
            )
        Invitation.objects.bulk_create(invitations, batch_size=1000)
        ClientEvent.objects.bulk_create(
            [
                ClientEvent(
                    firm=self.firm, client=c, kind="client.created", summary="Client importé (démo)"
                )
                for c in self.clients
            ],
            batch_size=1000,
        )


def _make_users(firm: Firm, people, password_hash: str) -> list[User]:
    users = []
    for email, first, last, role in people:
        user = User.objects.create(
            email=email, first_name=first, last_name=last, password=password_hash
        )
        Membership.objects.create(user=user, firm=firm, role=role)
        users.append(user)
    return users


def _guide_rows(b: Builder) -> set[str]:
    for row in GUIDE_ROWS:
        siret = b.siret() if row.siret is None else row.siret
        client = b.add_client(
            code=row.code,
            name=row.name,
            legal_form=row.legal_form,
            siret=siret,
            ape_code="00.00Z" if row.code in {"000246", "01TEST1"} else b.rng.choice(APE),
            mandate_status=row.mandate,
            pa_status=row.pa,
            sensitised=row.sensitised,
            sensitised_at=b.now - timedelta(days=30) if row.sensitised else None,
            mandate_sent_at=b.now - timedelta(days=20) if row.mandate else None,
            reception_flux=row.reception,
            collect_email=f"invoice-{b.uuid()}@{settings.COLLECT_EMAIL_DOMAIN}"
            if row.collect_email
            else "",
        )
        domain = fold(row.name).replace(" ", "-").replace("'", "").replace(".", "")[:20] + ".fr"
        if row.contact_names:
            contacts = [
                b.add_contact(client, first, last, email, access, row.principal and i == 0)
                for i, (first, last, email, access) in enumerate(row.contact_names)
            ]
        else:
            contacts = b.add_random_contacts(client, row.contacts, domain, principal=row.principal)
        b.assign(client, 2 if row.contacts else 1)
        if row.achat == "shine":
            b.shine(client, contacts[0], row.plan, ShineStatus.ACTIVATED)
        else:
            for slot, slug in ((Slot.ACHAT, row.achat), (Slot.VENTE, row.vente)):
                if slug:
                    b.equip(client, slot, slug)
        if row.caisse:
            b.equip(client, Slot.CAISSE, row.caisse)
    return {row.code for row in GUIDE_ROWS}


def _random_rows(b: Builder, count: int, used_codes: set[str], start: int) -> None:
    rng, faker = b.rng, b.faker
    forms, weights = zip(*FORMS_WEIGHTED, strict=True)
    number = start
    for _ in range(count):
        while f"{number:06d}" in used_codes:
            number += 1
        code = f"{number:06d}"
        number += 1
        legal_form = rng.choices(forms, weights)[0]
        last = faker.last_name()
        if legal_form in (LegalForm.EI, LegalForm.MICRO):
            name = f"{last.upper()} {faker.first_name()}"
        elif legal_form == LegalForm.SCI:
            name = (
                f"SCI {rng.choice(['Les Tilleuls', 'Du Moulin', 'Des Lilas', 'Saint-Roch', last])}"
            )
        else:
            name = f"{rng.choice(TRADES)} {last}"
        has_siret = rng.random() < 0.88
        roll = rng.random()
        n_contacts = 0 if roll < 0.08 else 1 if roll < 0.30 else rng.randint(2, 6)
        has_principal = n_contacts > 0 and rng.random() < 0.75
        sensitised = rng.random() < 0.4
        mandate = draw_mandate(rng)
        pa = draw_pa(rng)
        client = b.add_client(
            code=code,
            name=name,
            legal_form=legal_form,
            siret=b.siret() if has_siret else "",
            ape_code=rng.choice(APE),
            regime=rng.choice(["reel_normal", "reel_simplifie", "micro", ""]),
            activity=rng.choice(["", "", faker.job()[:100]]),
            notes=rng.choice([""] * 19 + ["Relancer pour les pièces du trimestre."]),
            sensitised=sensitised,
            sensitised_at=b.now - timedelta(days=rng.randrange(1, 300)) if sensitised else None,
            sensitised_by=rng.choice(b.users) if sensitised else None,
            mandate_status=mandate,
            mandate_sent_at=b.now - timedelta(days=rng.randrange(1, 200)) if mandate else None,
            mandate_signed_at=b.now - timedelta(days=rng.randrange(1, 100))
            if mandate == MandateStatus.SIGNED
            else None,
            pa_status=pa,
            pa_name=rng.choice(PA_NAMES) if pa == PaStatus.REGISTERED else "",
            pa_registered_at=(b.now - timedelta(days=rng.randrange(1, 120))).date()
            if pa == PaStatus.REGISTERED
            else None,
            collect_email=f"invoice-{b.uuid()}@{settings.COLLECT_EMAIL_DOMAIN}"
            if rng.random() < 0.35
            else "",
            flux_achat=rng.choice([""] * 3 + FLUX),
            flux_vente=rng.choice([""] * 3 + FLUX),
            flux_banque=rng.choice([""] * 2 + BANKS),
            paie=rng.choice([""] * 4 + PAIE),
            docs_to_file=rng.choice([0, 0, 0, rng.randrange(1, 40)]),
        )
        domain = f"{fold(last).replace(' ', '-').replace(chr(39), '')}-{code}.fr"
        contacts = b.add_random_contacts(client, n_contacts, domain, principal=has_principal)
        if rng.random() < 0.85:
            b.assign(client, rng.choice([1, 1, 2, 2, 3, 4]))
        equip_roll = rng.random()
        if equip_roll < 0.15 and has_siret and has_principal:
            status = rng.choices(
                [ShineStatus.ACTIVATED, ShineStatus.SENT, ShineStatus.FAILED], [6, 3, 1]
            )[0]
            b.shine(client, contacts[0], rng.choice(Plan.values), status)
            client.reception_flux = "Shine " + rng.choice(["Plus", "Start", "Easy"])
        else:
            if equip_roll < 0.6:
                b.equip(client, Slot.ACHAT, rng.choice(ACHAT_OTHERS))
                if rng.random() < 0.15:  # "+1" in the cell
                    b.equip(client, Slot.ACHAT, "microsoft-excel" if rng.random() < 0.5 else "abby")
            if equip_roll < 0.55:
                b.equip(client, Slot.VENTE, rng.choice(VENTE_OTHERS))
            client.reception_flux = rng.choice([""] * 3 + RECEPTION)
        if rng.random() < 0.2:
            b.equip(client, Slot.CAISSE, rng.choice(CAISSE))


@transaction.atomic
def build_demo(*, seed: int = 2027) -> dict[str, int]:
    """Create both demo firms. Returns counts per firm."""
    rng = random.Random(seed)
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    solutions = {s.slug: s for s in Solution.objects.all()}
    password_hash = make_password(DEMO_PASSWORD)

    demo = Firm.objects.create(
        name=DEMO_FIRM, public_id=uuid.UUID(int=rng.getrandbits(128), version=4)
    )
    addresses = Addresses.seeded(seed + 1)
    b = Builder(
        demo, _make_users(demo, COLLABORATORS, password_hash), rng, faker, solutions, addresses
    )
    used = _guide_rows(b)
    _random_rows(b, DEMO_CLIENTS - len(GUIDE_ROWS), used, start=300)
    b.save()

    witness = Firm.objects.create(
        name=WITNESS_FIRM, public_id=uuid.UUID(int=rng.getrandbits(128), version=4)
    )
    w = Builder(
        witness,
        _make_users(witness, WITNESS_COLLABORATORS, password_hash),
        rng,
        faker,
        solutions,
        addresses,
    )
    w.email_seq = 10**6  # keeps every Shine address distinct across the two firms
    _random_rows(w, WITNESS_CLIENTS, set(), start=1)
    w.save()
    return {DEMO_FIRM: len(b.clients), WITNESS_FIRM: len(w.clients)}


@transaction.atomic
def delete_demo() -> None:
    users = User.objects.filter(membership__firm__name__in=[DEMO_FIRM, WITNESS_FIRM])
    firms = Firm.objects.filter(name__in=[DEMO_FIRM, WITNESS_FIRM])
    for firm in firms:
        # Protected catalogue rows are referenced by equipment; delete in order.
        Equipment.objects.filter(firm=firm).delete()
        Invitation.objects.filter(firm=firm).delete()
    list_users = list(users)
    firms.delete()
    for user in list_users:
        user.delete()


def demo_exists() -> bool:
    return Firm.objects.filter(name=DEMO_FIRM).exists()

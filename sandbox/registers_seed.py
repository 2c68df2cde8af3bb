"""The sandbox registers' data, built deterministically from a firm's clients.

Each entry is what the console holds about a client (`siret`, `name`, `legal_form`,
`ape_code`, `pa_name`); the register answers as if the company really existed, mostly
matching, sometimes not. Which way a client drifts is drawn from a hash of its SIRET, so
the same portfolio always gives the same registers; an entry may name its `scenario`
instead (the tests do):

- company register (`sirene`): ok, ceased, establishment_closed, not_head_office, name,
  legal_form, ape, unknown;
- directory (`annuaire`): same_pa, no_line, other_pa, future_date, siren_level.

Clients sharing a SIREN (several establishments of one company) make one legal unit
with one establishment each; the first is its head office.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.db import transaction
from stdnum import luhn

from sandbox.models import DirectoryEntry, RegisterCompany, RegisterEstablishment

SIRENE_SCENARIOS = [
    ("ok", 70),
    ("ceased", 5),
    ("establishment_closed", 3),
    ("not_head_office", 4),
    ("name", 5),
    ("legal_form", 4),
    ("ape", 6),
    ("unknown", 3),
]
ANNUAIRE_SCENARIOS = [
    ("same_pa", 50),
    ("no_line", 18),
    ("other_pa", 12),
    ("future_date", 8),
    ("siren_level", 12),
]

# INSEE's catégories juridiques (niveau III) for our legal forms.
NATURE_JURIDIQUE = {
    "EI": "1000",
    "EIRL": "1000",
    "MICRO": "1000",
    "EURL": "5498",
    "SARL": "5499",
    "SASU": "5720",
    "SAS": "5710",
    "SA": "5599",
    "SNC": "5202",
    "SCI": "6540",
    "SCM": "6589",
    "SCP": "6585",
    "SELARL": "5485",
    "EARL": "6598",
    "GAEC": "6533",
    "ASSOCIATION": "9220",
}
OTHER_APE = ["62.02A", "70.22Z", "47.11B", "43.29A", "56.30Z", "86.23Z"]
# Platforms (PA) of the directory: name and registration number (matricule).
PLATFORMS = {
    "Shine": "0231",
    "Cegid Flow": "0112",
    "Pennylane": "0187",
    "Docaposte": "0045",
    "Sage Network": "0205",
    "Qonto Factures": "0244",
}
# The directory's OAuth2 clients (client id: secret), as a platform issues them to a firm;
# its token endpoint (sandbox/registers.py) gives them short-lived bearer tokens.
OAUTH_CLIENTS = {"vigie-sandbox": "sandbox-annuaire-secret"}
STREETS = ["RUE DE LA PAIX", "AVENUE JEAN JAURES", "BOULEVARD VOLTAIRE", "RUE NATIONALE"]
TOWNS = [("75011", "PARIS"), ("69003", "LYON"), ("13001", "MARSEILLE"), ("33000", "BORDEAUX")]
DIRECTORS = [("MARTIN", "Claire"), ("BERNARD", "Luc"), ("PETIT", "Anne"), ("DURAND", "Marc")]
EFFECTIVE_SINCE = date(2026, 5, 4)


def _hash(*parts: str) -> int:
    return int(hashlib.sha256(":".join(parts).encode()).hexdigest(), 16)


def draw(siret: str, register: str, weights: list[tuple[str, int]]) -> str:
    roll = _hash(register, siret) % sum(w for _, w in weights)
    for name, weight in weights:
        if roll < weight:
            return name
        roll -= weight
    raise AssertionError("unreachable")


def _other_siret(siren: str, siret: str) -> str:
    """Another valid SIRET of the same company (a head office elsewhere)."""
    nic = (int(siret[9:13]) + 4321) % 10000
    partial = f"{siren}{nic:04d}"
    return partial + luhn.calc_check_digit(partial)


def _address(siret: str) -> dict:
    h = _hash("address", siret)
    number, street = str(1 + h % 120), STREETS[h % len(STREETS)]
    postcode, town = TOWNS[(h // 7) % len(TOWNS)]
    return {
        "numero_voie": number,
        "type_voie": street.split()[0],
        "libelle_voie": street.split(" ", 1)[1],
        "code_postal": postcode,
        "libelle_commune": town,
        "commune": postcode,
        "adresse": f"{number} {street} {postcode} {town}",
    }


def establishment(siret: str, *, head_office: bool, ape: str, closed: bool = False) -> dict:
    """An establishment in API Recherche d'entreprises' shape (app/models/unite_legale.py
    `Etablissement` of annuaire-entreprises-data-gouv-fr/search-api)."""
    return {
        "activite_principale": ape,
        "ancien_siege": False,
        **_address(siret),
        "date_creation": "2015-03-02",
        "date_debut_activite": "2015-03-02",
        "date_fermeture": "2025-12-31" if closed else None,
        "est_siege": head_office,
        "etat_administratif": "F" if closed else "A",
        "liste_enseignes": None,
        "nom_commercial": None,
        "siret": siret,
        "statut_diffusion_etablissement": "O",
        "tranche_effectif_salarie": "01",
    }


def _company(entry: dict, scenario: str, establishments: list[dict], siege: dict) -> dict:
    siren = entry["siret"][:9]
    name = entry["name"].upper()
    nature = NATURE_JURIDIQUE.get(entry.get("legal_form", ""), "5499")
    ape = entry.get("ape_code") or "70.22Z"
    if scenario == "name":
        name = f"{name} ET ASSOCIES"
    elif scenario == "legal_form":
        nature = "5710" if nature != "5710" else "5499"
    elif scenario == "ape":
        ape = next(code for code in OTHER_APE if code != ape)
    last, first = DIRECTORS[_hash("director", siren) % len(DIRECTORS)]
    ceased = scenario == "ceased"
    open_count = sum(1 for e in establishments if e["etat_administratif"] == "A")
    return {
        "siren": siren,
        "nom_complet": name,
        "nom_raison_sociale": None if nature == "1000" else name,
        "sigle": None,
        "nombre_etablissements": len(establishments),
        "nombre_etablissements_ouverts": 0 if ceased else open_count,
        "siege": siege,
        "activite_principale": ape,
        "categorie_entreprise": "PME",
        "caractere_employeur": "O",
        "annee_categorie_entreprise": "2023",
        "date_creation": "2015-03-02",
        "date_fermeture": "2025-11-30" if ceased else None,
        "date_mise_a_jour": "2026-06-01T08:00:00",
        "date_mise_a_jour_insee": "2026-06-01T08:00:00",
        "date_mise_a_jour_rne": "2026-05-28T08:00:00",
        "dirigeants": [
            {
                "nom": last,
                "prenoms": first,
                "annee_de_naissance": "1978",
                "date_de_naissance": "1978-04",
                "qualite": "Gérant" if nature.startswith("54") else "Président",
                "nationalite": "Française",
                "type_dirigeant": "personne physique",
            }
        ]
        if nature != "1000"
        else [],
        "etat_administratif": "C" if ceased else "A",
        "nature_juridique": nature,
        "section_activite_principale": "M",
        "tranche_effectif_salarie": "01",
        "annee_tranche_effectif_salarie": "2023",
        "statut_diffusion": "O",
        "complements": {"est_entrepreneur_individuel": nature == "1000"},
    }


def directory_line(
    *, siren: str, siret: str = "", platform: str, effective: date, suffix: str = ""
) -> dict:
    """A directory line in the AFNOR XP Z12-013 directory-line shape (see
    sandbox/registers.py for what is sourced and what is assumed)."""
    if suffix:
        identifier = f"{siren}_{suffix}"
    elif siret:
        identifier = f"{siren}_{siret}"
    else:
        identifier = siren
    line = {
        "addressingIdentifier": identifier,
        "siren": siren,
        "platformType": "WK",  # UNTDID 3035: an approved platform (PA)
        "directoryLineStatus": "Upcoming" if effective > date.today() else "Enabled",
        "platformName": platform,
        "platformRegistrationNumber": PLATFORMS.get(platform, "0999"),
        "effectiveDate": effective.isoformat(),
    }
    if siret and not suffix:
        line["siret"] = siret
    if suffix:
        line["addressingSuffix"] = suffix
    return line


def build(entries: list[dict]) -> tuple[list, list, list]:
    """The registers' rows for these clients: companies, establishments, directory lines."""
    by_siren: dict[str, list[dict]] = {}
    for entry in entries:
        siret = str(entry.get("siret", ""))
        if len(siret) == 14 and siret.isdigit() and luhn.is_valid(siret):
            by_siren.setdefault(siret[:9], []).append(entry)
    companies, establishments, lines = [], [], []
    for siren, group in by_siren.items():
        first = group[0]
        scenarios = [
            e.get("scenario", {}).get("sirene") or draw(e["siret"], "sirene", SIRENE_SCENARIOS)
            for e in group
        ]
        if scenarios[0] == "unknown":
            continue
        ape = first.get("ape_code") or "70.22Z"
        made = {}
        for entry, scenario in zip(group, scenarios, strict=True):
            made[entry["siret"]] = establishment(
                entry["siret"],
                head_office=False,
                ape=ape,
                closed=scenario in ("establishment_closed", "ceased"),
            )
        head = first["siret"]
        if scenarios[0] == "not_head_office":
            head = _other_siret(siren, head)
            made[head] = establishment(head, head_office=False, ape=ape)
        made[head]["est_siege"] = True
        companies.append((siren, _company(first, scenarios[0], list(made.values()), made[head])))
        establishments.extend((siret, siren, data) for siret, data in made.items())
        lines.extend(_lines(siren, group))
    return companies, establishments, lines


def _lines(siren: str, group: list[dict]) -> list[dict]:
    made: dict[str, dict] = {}
    for entry in group:
        siret = entry["siret"]
        scenario = entry.get("scenario", {}).get("annuaire") or draw(
            siret, "annuaire", ANNUAIRE_SCENARIOS
        )
        own = entry.get("pa_name") or ""
        names = sorted(PLATFORMS)
        platform = own or names[_hash("pa", siret) % len(names)]
        effective = EFFECTIVE_SINCE
        if scenario == "no_line":
            continue
        if scenario == "other_pa":
            platform = next(name for name in names if name != platform)
        if scenario == "future_date":
            effective = date.today() + timedelta(days=45 + _hash("date", siret) % 90)
        line = directory_line(
            siren=siren,
            siret="" if scenario == "siren_level" else siret,
            platform=platform,
            effective=effective,
        )
        made[line["addressingIdentifier"]] = line
    return list(made.values())


@transaction.atomic
def load(entries: list[dict], *, replace: bool = True) -> dict:
    """Write the registers' rows for these clients (all of them replaced by default)."""
    companies, establishments, lines = build(entries)
    if replace:
        for model in (RegisterCompany, RegisterEstablishment, DirectoryEntry):
            model.objects.all().delete()
    else:
        sirens = [siren for siren, _ in companies] + [line["siren"] for line in lines]
        RegisterCompany.objects.filter(siren__in=sirens).delete()
        RegisterEstablishment.objects.filter(siren__in=sirens).delete()
        DirectoryEntry.objects.filter(siren__in=sirens).delete()
    RegisterCompany.objects.bulk_create(
        [RegisterCompany(siren=siren, data=data) for siren, data in companies], batch_size=500
    )
    RegisterEstablishment.objects.bulk_create(
        [RegisterEstablishment(siret=s, siren=n, data=d) for s, n, d in establishments],
        batch_size=500,
        ignore_conflicts=True,
    )
    DirectoryEntry.objects.bulk_create(
        [
            DirectoryEntry(
                addressing_identifier=line["addressingIdentifier"],
                siren=line["siren"],
                siret=line.get("siret", ""),
                data=line,
            )
            for line in lines
        ],
        batch_size=500,
    )
    return {"companies": len(companies), "establishments": len(establishments), "lines": len(lines)}

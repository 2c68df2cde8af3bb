"""Target fields of an import and the French column headers that name them."""

from __future__ import annotations

import re

from vigie.lib.text import fold

# (field, label shown in the mapping form, header synonyms after folding)
FIELDS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "code",
        "Code client",
        (
            "code client",
            "code",
            "code dossier",
            "n client",
            "numero client",
            "ref client",
            "reference client",
            "code tiers",
        ),
    ),
    (
        "name",
        "Raison sociale",
        (
            "raison sociale",
            "entreprise",
            "societe",
            "denomination",
            "nom entreprise",
            "nom de l entreprise",
            "client",
            "dossier",
            "nom du dossier",
        ),
    ),
    ("legal_form", "Forme juridique", ("forme juridique", "forme", "statut juridique")),
    ("siret", "Siret", ("siret", "n siret", "numero siret", "no siret")),
    ("ape_code", "Code APE", ("code ape", "ape", "naf", "code naf", "code ape naf")),
    ("regime", "Régime", ("regime", "regime fiscal", "regime tva", "regime d imposition")),
    ("activity", "Activité", ("activite", "secteur", "secteur d activite")),
    (
        "address",
        "Adresse",
        ("adresse", "adresse postale", "adresse du siege", "adresse siege", "rue", "voie"),
    ),
    ("postal_code", "Code postal", ("code postal", "cp", "code postal siege")),
    ("city", "Ville", ("ville", "commune", "localite", "ville siege")),
    ("docs_to_file", "Doc. à classer", ("doc a classer", "docs a classer", "documents a classer")),
    (
        "invoices_per_month",
        "Factures par mois",
        (
            "factures par mois",
            "factures emises par mois",
            "nombre de factures par mois",
            "nb factures par mois",
            "factures mois",
        ),
    ),
    (
        "contact_last_name",
        "Nom (contact)",
        ("nom", "nom contact", "nom du contact", "contact nom", "nom dirigeant"),
    ),
    (
        "contact_first_name",
        "Prénom (contact)",
        ("prenom", "prenom contact", "prenom du contact", "contact prenom", "prenom dirigeant"),
    ),
    (
        "contact_email",
        "E-mail (contact)",
        (
            "e mail",
            "email",
            "mail",
            "adresse e mail",
            "adresse mail",
            "courriel",
            "e mail contact",
            "email contact",
        ),
    ),
    (
        "contact_phone",
        "Téléphone (contact)",
        ("telephone", "tel", "portable", "mobile", "telephone contact", "n telephone"),
    ),
    # The colleague who follows the client (its « Mes dossiers »): a sign-in e-mail or
    # a full name.
    (
        "collaborator",
        "Collaborateur",
        (
            "collaborateur",
            "collaborateur e mail",
            "e mail collaborateur",
            "email collaborateur",
            "collaborateur en charge",
            "responsable",
            "responsable dossier",
            "responsable du dossier",
            "gestionnaire",
            "chef de mission",
            "charge de mission",
            "charge de dossier",
        ),
    ),
]
REQUIRED = ("code", "name")
LABELS = {field: label for field, label, _ in FIELDS}


def _key(header: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(header)).split())


def guess(headers: list[str]) -> dict[str, int]:
    """{field: column index} for the headers recognised; each column used once."""
    keys = [_key(h) for h in headers]
    mapping: dict[str, int] = {}
    for field, _label, synonyms in FIELDS:
        for synonym in synonyms:
            if synonym in keys and keys.index(synonym) not in mapping.values():
                mapping[field] = keys.index(synonym)
                break
    return mapping


def row_to_data(row: list[str], mapping: dict[str, int]) -> dict:
    """A spreadsheet row → the raw dict `clients_upsert_many` takes."""
    data: dict = {}
    contact: dict = {}
    for field, column in mapping.items():
        value = row[column] if column < len(row) else ""
        if field.startswith("contact_"):
            contact[field.removeprefix("contact_")] = value
        else:
            data[field] = value
    if any(contact.values()):
        data["contact"] = contact
    return data

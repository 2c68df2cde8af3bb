"""The company register: API Recherche d'entreprises (recherche-entreprises.api.gouv.fr,
free, no key, 7 requests per second per IP). Field names and shapes: see the sandbox's
sandbox/registers.py, which cites the service's own repository.

A SIREN or SIRET is checked (python-stdnum) before it is sent: an invalid one never is.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from stdnum.fr import siren as stdnum_siren

from vigie.clients.models import LegalForm
from vigie.lib.validators import is_valid_siret, normalize_ape
from vigie.registries.http import Caller, RegisterUnavailable, checked_base_url
from vigie.registries.naf import naf_label

SOURCE = "API Recherche d'entreprises"

# INSEE catégories juridiques (niveau III) → our *forme juridique*. Unlisted codes map to
# nothing: the register's code and label are shown, never compared.
_EXACT = {
    "1000": LegalForm.EI,
    "5202": LegalForm.SNC,
    "5485": LegalForm.SELARL,
    "5498": LegalForm.EURL,
    "5710": LegalForm.SAS,
    "5720": LegalForm.SASU,
    "6533": LegalForm.GAEC,
    "6540": LegalForm.SCI,
    "6589": LegalForm.SCM,
    "6598": LegalForm.EARL,
}
# An individual entrepreneur is « 1000 » whatever the firm calls it.
SAME_AS_EI = {LegalForm.EI, LegalForm.EIRL, LegalForm.MICRO}


def legal_form_from(nature_juridique: str | None) -> str:
    code = (nature_juridique or "").strip()
    if code in _EXACT:
        return _EXACT[code]
    if code.startswith("54"):
        return LegalForm.SARL
    if code[:2] in ("55", "56"):
        return LegalForm.SA
    if code.startswith(("656", "657")) or code == "6585":
        return LegalForm.SCP
    if code.startswith("92"):
        return LegalForm.ASSOCIATION
    return ""


def same_legal_form(ours: str, register: str) -> bool:
    return ours == register or (ours in SAME_AS_EI and register == LegalForm.EI)


@dataclass
class Establishment:
    siret: str
    active: bool
    closed_on: str | None
    is_head_office: bool
    address: str  # one line, as the register writes it
    # The same address in our client's fields: the street line(s), the postal code, the town.
    street: str = ""
    postal_code: str = ""
    city: str = ""


@dataclass
class Company:
    """A legal unit, mapped to our fields."""

    siren: str
    name: str
    nature_juridique: str
    legal_form: str  # one of LegalForm, or "" when ours has no equivalent
    ape_code: str
    ape_label: str
    active: bool
    closed_on: str | None
    head_office: Establishment | None
    open_establishments: int
    directors: list[dict] = field(default_factory=list)
    establishments: dict[str, Establishment] = field(default_factory=dict)

    def as_values(self) -> dict:
        values = asdict(self)
        values.pop("establishments")
        return values


# The parts of the street line, in the order the register writes `adresse` from them
# (search-api's format_adresse_complete: then the postal code and the town, or the CEDEX).
_STREET_PARTS = (
    "complement_adresse",
    "numero_voie",
    "indice_repetition",
    "type_voie",
    "libelle_voie",
    "distribution_speciale",
)


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _street(data: dict, address: str, postal_code: str, city: str) -> str:
    """The street line: from its parts (the head office has them), else `adresse` without
    its trailing postal code and town (establishments in `matching_etablissements`)."""
    parts = [_text(data.get(name)) for name in _STREET_PARTS]
    if any(parts):
        return " ".join(p for p in parts if p)
    for tail in (
        f"{postal_code} {city}",
        f"{_text(data.get('cedex'))} {_text(data.get('libelle_cedex'))}",
    ):
        tail = tail.strip()
        if tail and address.endswith(tail):
            return address.removesuffix(tail).strip()
    return address


def _establishment(data: dict) -> Establishment:
    address = str(data.get("adresse") or "")
    postal_code = _text(data.get("code_postal"))
    city = _text(data.get("libelle_commune"))
    return Establishment(
        siret=str(data.get("siret") or ""),
        active=data.get("etat_administratif") == "A",
        closed_on=data.get("date_fermeture"),
        is_head_office=bool(data.get("est_siege")),
        address=address,
        street=_street(data, _text(address), postal_code, city),
        postal_code=postal_code,
        city=city,
    )


def _ape(value) -> str:
    try:
        return normalize_ape(str(value or ""))
    except Exception:  # noqa: BLE001 - an unexpected code is shown as given
        return str(value or "")[:6]


def _director(data: dict) -> dict:
    if data.get("type_dirigeant") == "personne morale":
        return {"name": str(data.get("denomination") or ""), "role": str(data.get("qualite") or "")}
    name = f"{data.get('prenoms') or ''} {data.get('nom') or ''}".strip()
    return {"name": name, "role": str(data.get("qualite") or "")}


def company_from(result: dict) -> Company:
    """One `results[]` entry of /search, mapped; raises RegisterUnavailable when it is not
    the shape the register publishes."""
    try:
        siege = result.get("siege") or {}
        matching = [_establishment(e) for e in result.get("matching_etablissements") or []]
        head = _establishment(siege) if siege else None
        found = {e.siret: e for e in matching}
        if head is not None:
            found.setdefault(head.siret, head)
        ape = _ape(result.get("activite_principale"))
        return Company(
            siren=str(result["siren"]),
            name=str(result.get("nom_raison_sociale") or result.get("nom_complet") or ""),
            nature_juridique=str(result.get("nature_juridique") or ""),
            legal_form=legal_form_from(result.get("nature_juridique")),
            ape_code=ape,
            ape_label=naf_label(ape),
            active=result.get("etat_administratif") == "A",
            closed_on=result.get("date_fermeture"),
            head_office=head,
            open_establishments=int(result.get("nombre_etablissements_ouverts") or 0),
            directors=[_director(d) for d in result.get("dirigeants") or [] if isinstance(d, dict)],
            establishments=found,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RegisterUnavailable(
            f"réponse du registre illisible ({exc.__class__.__name__})"
        ) from None


def _parse(status: int, body: bytes) -> list[dict]:
    try:
        answer = json.loads(body)
    except ValueError:
        raise RegisterUnavailable("réponse du registre illisible") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        raise RegisterUnavailable("réponse du registre illisible")
    return answer["results"]


class SireneClient:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float = 0.5,
    ):
        self.base_url = checked_base_url(base_url or settings.SIRENE_API_URL, "SIRENE_API_URL")
        self.caller = Caller(
            "sirene",
            rate=settings.SIRENE_RATE,
            timeout=timeout if timeout is not None else settings.SIRENE_TIMEOUT,
            retries=retries if retries is not None else settings.REGISTRY_RETRIES,
            backoff=backoff,
        )

    @property
    def source(self) -> str:
        return f"{SOURCE} ({self.base_url})"

    def company(self, number: str) -> Company | None:
        """The legal unit of a SIRET (with that establishment) or of a SIREN (with its
        establishments, up to 100); None when the register does not know it."""
        number = (number or "").replace(" ", "")
        valid = is_valid_siret(number) if len(number) == 14 else stdnum_siren.is_valid(number)
        if not (number.isdigit() and len(number) in (9, 14) and valid):
            raise ValueError("SIREN ou SIRET invalide : il n'est pas envoyé au registre.")
        query = {"q": number, "page": 1, "per_page": 1}
        if len(number) == 9:
            query["limite_matching_etablissements"] = 100
        results = self.caller.call(f"{self.base_url}/search?{urlencode(query)}", _parse)
        matches = [r for r in results if isinstance(r, dict) and r.get("siren") == number[:9]]
        return company_from(matches[0]) if matches else None

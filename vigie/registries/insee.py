"""The company register through INSEE's API Sirene (v3.11, portail-api.insee.fr), with a
key: `SIRENE_SOURCE=insee`, `INSEE_API_URL`, `INSEE_API_KEY`, `INSEE_RATE_PER_MINUTE`.

Its multi-criteria search takes many SIRETs in one query (`siret:A OR siret:B …`, up to
`nombre` 1,000 answers), so a run asks for a batch of clients in one call where the API
Recherche d'entreprises needs one call per company: at the public plan's 30 requests a
minute, 50 SIRETs a call check 1,500 clients a minute. What it does not give: the
directors (the card then says none are known) and the count of open establishments (the
directory's SIREN-level alert then relies on the establishments the firm holds).

Shapes, from INSEE's documentation of API Sirene 3.11 and clients written against it
(the sandbox, sandbox/insee.py, says what is assumed): `POST /siret` with a form-encoded
`q` and `nombre`; the key in `X-INSEE-Api-Key-Integration`; `200 {header{statut, message,
total, debut, nombre}, etablissements[]}`, `404` when nothing matches; an establishment
carries `siren`, `siret`, `etablissementSiege`, `uniteLegale{etatAdministratifUniteLegale,
denominationUniteLegale, nomUniteLegale, prenom1UniteLegale, categorieJuridiqueUniteLegale,
activitePrincipaleUniteLegale, nicSiegeUniteLegale}`, `adresseEtablissement{…Etablissement}`
and `periodesEtablissement[]` (the current one has `dateFin` null:
`etatAdministratifEtablissement` A / F, `dateDebut`).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from vigie.lib.validators import is_valid_siret
from vigie.registries.http import Caller, RegisterRefused, RegisterUnavailable, checked_base_url
from vigie.registries.naf import naf_label
from vigie.registries.sirene import Company, Establishment, _ape, _text, legal_form_from

SOURCE = "API Sirene (Insee)"
BATCH = 50  # SIRETs per query: the query stays short, the answer within one page

_STREET = (
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "distributionSpecialeEtablissement",
)


def _current(periods) -> dict:
    """The establishment's current period (`dateFin` null), else its latest."""
    if not isinstance(periods, list) or not periods:
        return {}
    return next((p for p in periods if isinstance(p, dict) and not p.get("dateFin")), periods[0])


def establishment_from(data: dict) -> Establishment:
    address = data.get("adresseEtablissement") or {}
    period = _current(data.get("periodesEtablissement"))
    street = " ".join(t for t in (_text(address.get(k)) for k in _STREET) if t)
    postal_code = _text(address.get("codePostalEtablissement"))
    city = _text(address.get("libelleCommuneEtablissement"))
    active = period.get("etatAdministratifEtablissement") == "A"
    return Establishment(
        siret=str(data["siret"]),
        active=active,
        closed_on=None if active else period.get("dateDebut"),
        is_head_office=bool(data.get("etablissementSiege")),
        address=" ".join(t for t in (street, postal_code, city) if t),
        street=street,
        postal_code=postal_code,
        city=city,
    )


def _name(unit: dict) -> str:
    name = _text(unit.get("denominationUniteLegale"))
    if name:
        return name
    # A person (an individual entrepreneur): « NOM Prénom », as firms write them.
    person = (
        unit.get("nomUsageUniteLegale") or unit.get("nomUniteLegale"),
        unit.get("prenomUsuelUniteLegale") or unit.get("prenom1UniteLegale"),
    )
    return " ".join(_text(p) for p in person if p)


def company_from(data: dict, head: Establishment | None) -> Company:
    """One establishment of the answer, as the company it belongs to; `head` is its head
    office when the answer holds it."""
    try:
        unit = data.get("uniteLegale") or {}
        establishment = establishment_from(data)
        if establishment.is_head_office:
            head = establishment
        ape = _ape(unit.get("activitePrincipaleUniteLegale"))
        active = unit.get("etatAdministratifUniteLegale") == "A"
        found = {establishment.siret: establishment}
        if head is not None:
            found.setdefault(head.siret, head)
        return Company(
            siren=str(data["siren"]),
            name=_name(unit),
            nature_juridique=str(unit.get("categorieJuridiqueUniteLegale") or ""),
            legal_form=legal_form_from(unit.get("categorieJuridiqueUniteLegale")),
            ape_code=ape,
            ape_label=naf_label(ape),
            active=active,
            closed_on=None,
            head_office=head,
            open_establishments=None,  # not in this answer
            directors=[],
            establishments=found,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RegisterUnavailable(
            f"réponse du registre illisible ({exc.__class__.__name__})"
        ) from None


def _named_heads(establishments) -> dict[str, Establishment]:
    """The head office each establishment's unit names (`nicSiegeUniteLegale`), by SIREN:
    its SIRET only (where and whether it is open, the answer does not say)."""
    heads = {}
    for data in establishments:
        nic = str((data.get("uniteLegale") or {}).get("nicSiegeUniteLegale") or "")
        siren = str(data.get("siren") or "")
        if not data.get("etablissementSiege") and nic.isdigit() and len(nic) == 5:
            heads[siren] = Establishment(
                siret=siren + nic, active=True, closed_on=None, is_head_office=True, address=""
            )
    return heads


def _parse(status: int, body: bytes) -> list[dict]:
    try:
        answer = json.loads(body)
    except ValueError:
        raise RegisterUnavailable("réponse du registre illisible") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("etablissements"), list):
        raise RegisterUnavailable("réponse du registre illisible")
    return [e for e in answer["etablissements"] if isinstance(e, dict)]


class InseeClient:
    """`companies(sirets)` in batches; `company(siret)` reads what a batch fetched (a run
    fetches its batch first), else asks alone."""

    def __init__(
        self,
        base_url: str | None = None,
        key: str | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float = 0.5,
    ):
        self.base_url = checked_base_url(base_url or settings.INSEE_API_URL, "INSEE_API_URL")
        self.key = key if key is not None else settings.INSEE_API_KEY
        if not self.key:
            raise ImproperlyConfigured("INSEE_API_KEY is required to read API Sirene.")
        self.caller = Caller(
            "insee",
            rate=settings.INSEE_RATE_PER_MINUTE / 60,
            timeout=timeout if timeout is not None else settings.SIRENE_TIMEOUT,
            retries=retries if retries is not None else settings.REGISTRY_RETRIES,
            backoff=backoff,
        )
        self._fetched: dict[str, Company | None] = {}

    @property
    def source(self) -> str:
        return f"{SOURCE} ({self.base_url})"

    def _search(self, query: str, count: int) -> list[dict]:
        body = urlencode({"q": query, "nombre": max(1, min(count, 1000))}).encode()
        headers = {
            "X-INSEE-Api-Key-Integration": self.key,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        try:
            return self.caller.call(f"{self.base_url}/siret", _parse, data=body, headers=headers)
        except RegisterRefused as exc:
            if exc.status == 404:  # nothing matches
                return []
            raise

    def companies(
        self, sirets: list[str], *, head_addresses: bool = False
    ) -> dict[str, Company | None]:
        """Each valid SIRET's company (None when the register does not know it); a SIRET
        whose check digit fails is never sent. An establishment that is not its head
        office names it (`nicSiegeUniteLegale`): a run needs no more. With
        `head_addresses` (filling a form from the SIRET), or when the head office is not
        named, the head offices are read too, in one more call."""
        wanted = list(dict.fromkeys(s for s in sirets if is_valid_siret(s)))
        if len(wanted) != len(set(sirets)):
            raise ValueError("SIRET invalide : il n'est pas envoyé au registre.")
        out: dict[str, Company | None] = {}
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            found = {
                e.get("siret"): e
                for e in self._search(" OR ".join(f"siret:{s}" for s in batch), len(batch))
            }
            heads = {} if head_addresses else _named_heads(found.values())
            away = sorted(
                {
                    e["siren"]
                    for e in found.values()
                    if not e.get("etablissementSiege") and e.get("siren") not in heads
                }
            )
            if away:
                query = (
                    "(" + " OR ".join(f"siren:{s}" for s in away) + ") AND etablissementSiege:true"
                )
                heads |= {
                    e.get("siren"): establishment_from(e) for e in self._search(query, len(away))
                }
            for siret in batch:
                data = found.get(siret)
                out[siret] = (
                    None if data is None else company_from(data, heads.get(data.get("siren")))
                )
        self._fetched.update(out)
        return out

    def company(self, number: str) -> Company | None:
        """A SIRET's company: fetched by an earlier batch, else asked alone, with its head
        office's address."""
        number = (number or "").replace(" ", "")
        if number not in self._fetched:
            self.companies([number], head_addresses=True)
        return self._fetched[number]

"""The e-invoicing directory through a platform's (PA's) directory API: AFNOR XP Z12-013
Directory Service, `POST /v1/directory-line/search` by SIREN or SIRET, and the directory's
CSV export as an alternative for a whole portfolio. What is sourced and what is assumed of
its shapes: sandbox/registers.py.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from stdnum.fr import siren as stdnum_siren

from vigie.registries.http import Caller, RegisterUnavailable, checked_base_url

SOURCE = "Annuaire de facturation électronique"
PAGE = 100  # the smallest page every platform must support


@dataclass
class DirectoryLine:
    addressing_identifier: str
    siren: str
    siret: str
    suffix: str
    routing_code: str
    level: str  # "siren", "siret", "suffix" or "routing_code"
    platform_name: str
    platform_registration_number: str
    platform_type: str
    effective_date: str  # ISO date, "" when the directory gives none
    status: str  # Upcoming, Enabled, Disabled

    def as_values(self) -> dict:
        return asdict(self)

    @property
    def effective(self) -> date | None:
        try:
            return date.fromisoformat(self.effective_date)
        except ValueError:
            return None


def line_from(data: dict) -> DirectoryLine:
    """One directory line, mapped; RegisterUnavailable when it is not one."""
    if not isinstance(data, dict) or not data.get("addressingIdentifier") or not data.get("siren"):
        raise RegisterUnavailable("ligne d'annuaire illisible")
    routing = data.get("routingCode") or {}
    routing_code = str(
        (routing.get("routingIdentifier") if isinstance(routing, dict) else "")
        or data.get("routingIdentifier")
        or ""
    )
    siret, suffix = str(data.get("siret") or ""), str(data.get("addressingSuffix") or "")
    level = (
        "routing_code" if routing_code else "suffix" if suffix else "siret" if siret else "siren"
    )
    return DirectoryLine(
        addressing_identifier=str(data["addressingIdentifier"]),
        siren=str(data["siren"]),
        siret=siret,
        suffix=suffix,
        routing_code=routing_code,
        level=level,
        platform_name=str(data.get("platformName") or ""),
        platform_registration_number=str(data.get("platformRegistrationNumber") or ""),
        platform_type=str(data.get("platformType") or ""),
        effective_date=str(data.get("effectiveDate") or ""),
        status=str(data.get("directoryLineStatus") or ""),
    )


def _parse_page(status: int, body: bytes) -> tuple[list[DirectoryLine], int]:
    if status == 204:
        return [], 0
    try:
        answer = json.loads(body)
    except ValueError:
        raise RegisterUnavailable("réponse de l'annuaire illisible") from None
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("results"), list)
        or not isinstance(answer.get("totalNumberOfResults"), int)
    ):
        raise RegisterUnavailable("réponse de l'annuaire illisible")
    return [line_from(item) for item in answer["results"]], answer["totalNumberOfResults"]


def _parse_export(status: int, body: bytes) -> list[DirectoryLine]:
    try:
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    except (UnicodeDecodeError, csv.Error):
        raise RegisterUnavailable("export de l'annuaire illisible") from None
    return [line_from({k: v for k, v in row.items() if k}) for row in rows]


class AnnuaireClient:
    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float = 0.5,
    ):
        self.base_url = checked_base_url(base_url or settings.ANNUAIRE_API_URL, "ANNUAIRE_API_URL")
        self.token = token if token is not None else settings.ANNUAIRE_API_KEY
        if not self.token:
            raise ImproperlyConfigured("ANNUAIRE_API_KEY is required to read the directory.")
        self.caller = Caller(
            "annuaire",
            rate=settings.ANNUAIRE_RATE,
            timeout=timeout if timeout is not None else settings.ANNUAIRE_TIMEOUT,
            retries=retries if retries is not None else settings.REGISTRY_RETRIES,
            backoff=backoff,
        )

    @property
    def source(self) -> str:
        return f"{SOURCE} ({self.base_url})"

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def lines(self, siren: str) -> list[DirectoryLine]:
        """Every line of a SIREN (its own, its establishments', suffixes, routing codes)."""
        if not (siren.isdigit() and len(siren) == 9 and stdnum_siren.is_valid(siren)):
            raise ValueError("SIREN invalide : il n'est pas envoyé à l'annuaire.")
        found: list[DirectoryLine] = []
        while True:
            body = {
                "filters": {"siren": {"op": "strict", "value": siren}},
                "sorting": [{"field": "addressingIdentifier", "sortingOrder": "ascending"}],
                "limit": PAGE,
                "ignore": len(found),
            }
            page, total = self.caller.call(
                f"{self.base_url}/v1/directory-line/search",
                _parse_page,
                data=json.dumps(body).encode(),
                headers=self._headers(),
            )
            found.extend(page)
            if not page or len(found) >= total:
                return found

    def export(self) -> list[DirectoryLine]:
        """The whole directory as the CSV export gives it (one call for a portfolio)."""
        return self.caller.call(
            f"{self.base_url}/v1/directory-line/export.csv",
            _parse_export,
            headers={**self._headers(), "Accept": "text/csv"},
        )

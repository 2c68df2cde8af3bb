"""« Remplir depuis le registre »: the company register asked while the user waits.

One try with a short timeout, through the shared token bucket like every other call; a
register that is blocked by its own `Retry-After` is not waited for.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from vigie.clients.forms import normalize_postal_code
from vigie.clients.models import LegalForm
from vigie.registries.connectors import company_register
from vigie.registries.http import RegisterRefused, RegisterUnavailable
from vigie.registries.models import TokenBucket
from vigie.registries.sirene import Company

TIMEOUT = 4.0  # seconds: someone is waiting at the form
MAX_WAIT = 3.0  # seconds of a register's Retry-After worth waiting for


@dataclass
class Found:
    """What the register says of a SIRET, as the client form's fields."""

    siret: str
    company: Company

    @property
    def establishment(self):
        return self.company.establishments.get(self.siret)

    @property
    def is_head_office(self) -> bool:
        head = self.company.head_office
        return head is None or head.siret == self.siret

    @property
    def legal_form_label(self) -> str:
        return LegalForm(self.company.legal_form).label if self.company.legal_form else ""

    @property
    def address(self) -> str:
        head = self.company.head_office
        return head.address if head else ""

    @property
    def closed(self) -> str:
        """« Cessée le … » / « Établissement fermé le … », or ""."""
        if not self.company.active:
            return f"Entreprise cessée le {self.company.closed_on or '?'}"
        establishment = self.establishment
        if establishment is not None and not establishment.active:
            return f"Établissement fermé le {establishment.closed_on or '?'}"
        return ""

    def values(self) -> dict[str, str]:
        """The form's fields this fills (a legal form without our equivalent is left), the
        address being the head office's."""
        values = {"name": self.company.name, "ape_code": self.company.ape_code}
        if self.company.legal_form:
            values["legal_form"] = self.company.legal_form
        if self.company.ape_label:
            values["activity"] = self.company.ape_label
        head = self.company.head_office
        if head is not None:
            values["address"] = head.street[:200]
            values["city"] = head.city[:100]
            # A foreign head office has no French postal code: the field is left.
            with contextlib.suppress(ValidationError):
                values["postal_code"] = normalize_postal_code(head.postal_code)
        return {k: v for k, v in values.items() if v}


def _blocked(service: str) -> bool:
    return TokenBucket.objects.filter(
        service=service, blocked_until__gt=time.time() + MAX_WAIT
    ).exists()


def find(siret: str) -> Found | None:
    """The register's company for a valid SIRET, None when it does not know it. Raises
    RegisterUnavailable (French message) when it cannot answer now."""
    connector = company_register(timeout=min(TIMEOUT, settings.SIRENE_TIMEOUT), retries=0)
    if _blocked(connector.caller.service):
        raise RegisterUnavailable("le registre limite les appels pour quelques instants")
    try:
        company = connector.company(siret)
    except RegisterRefused as exc:
        raise RegisterUnavailable(str(exc)) from None
    return None if company is None else Found(siret, company)

"""Which service plays the company register: the API Recherche d'entreprises (free, no
key, one company a call) or, with `SIRENE_SOURCE=insee`, INSEE's API Sirene (a key, many
SIRETs a call). Both answer `company(siret)` with the same `Company`; the INSEE one also
`companies(sirets)`."""

from __future__ import annotations

from django.conf import settings

from vigie.registries.insee import InseeClient
from vigie.registries.sirene import SireneClient


def company_register(**options) -> SireneClient | InseeClient:
    if settings.SIRENE_SOURCE == "insee":
        return InseeClient(**options)
    return SireneClient(**options)

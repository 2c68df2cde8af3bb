"""Can a client be invited to Shine yet? The one place that says why not.

Used by the client page's banner and by anything that invites (one client or a
selection), so the reasons read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from vigie.clients.models import Client, Contact
from vigie.lib.validators import SIRET_REQUIRED_FOR_SHINE

NO_PRINCIPAL = "Le client n'a pas de contact principal"
PRINCIPAL_WITHOUT_EMAIL = "Le contact principal n'a pas d'adresse e-mail"


class Blocker(str):
    """A French reason (a plain `str`) that also carries a stable `code`.

    Codes: "siret", "principal", "principal_email".
    """

    code: str

    def __new__(cls, message: str, code: str) -> Blocker:
        obj = super().__new__(cls, message)
        obj.code = code
        return obj


def principal_of(contacts: Iterable[Contact]) -> Contact | None:
    return next((c for c in contacts if c.is_principal), None)


def shine_blockers(client: Client, contacts: Iterable[Contact] | None = None) -> list[Blocker]:
    """The reasons `client` cannot be invited to Shine yet; empty when it can.

    Pass the client's contacts when they are already loaded (no query then).
    """
    if contacts is None:
        contacts = client.contacts.all()
    blockers = []
    if not client.has_valid_siret:
        blockers.append(Blocker(SIRET_REQUIRED_FOR_SHINE, "siret"))
    principal = principal_of(contacts)
    if principal is None:
        blockers.append(Blocker(NO_PRINCIPAL, "principal"))
    elif not principal.email:
        blockers.append(Blocker(PRINCIPAL_WITHOUT_EMAIL, "principal_email"))
    return blockers

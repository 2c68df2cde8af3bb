"""What the client page's Réforme panel shows (also the no-JavaScript fallback page)."""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property

from vigie.clients.models import Client
from vigie.reform import lifecycle, services, tokens
from vigie.reform.forms import PaForm
from vigie.reform.models import MandateState
from vigie.registries.card import RegistersCard

SIGNATORY_UNLISTED = "Le signataire ne figure pas parmi les dirigeants connus au registre"


def _words(name: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return {w for w in re.split(r"[^a-z]+", plain.lower()) if len(w) > 1}


def is_listed(name: str, directors: list[dict]) -> bool:
    """Whether `name` (a contact's « Prénom Nom ») is one of the register's directors: each
    of its words among a director's (the register writes every first name: « Jeanne
    Marie MARTIN » is « Jeanne Martin »), accents and case aside."""
    words = _words(name)
    return bool(words) and any(words <= _words(d.get("name", "")) for d in directors)


class ReformPanel:
    SIGNATORY_UNLISTED = SIGNATORY_UNLISTED

    def __init__(
        self,
        client: Client,
        *,
        errors: dict | None = None,
        pa_form: PaForm | None = None,
        principal=services.UNKNOWN,
        directors=services.UNKNOWN,
    ):
        self.client = client
        # The client page passes the principal contact it already has (or None), and the
        # register's directors its « Registres » card read.
        self.principal = principal
        self._directors = directors
        self.errors = errors or {}
        self.pa_form = pa_form or PaForm(
            initial={
                "pa_status": client.pa_status,
                "pa_name": client.pa_name,
                "pa_registered_at": client.pa_registered_at,
            }
        )

    @cached_property
    def _mandates(self):
        return services.mandate_and_draft(self.client)

    @property
    def mandate(self):
        return self._mandates[0]

    @cached_property
    def blockers(self) -> list[str]:
        return services.mandate_blockers(self.client, self.principal)

    @property
    def draft(self):
        return self._mandates[1]

    @cached_property
    def draft_changes(self) -> list[str]:
        """What changed in the client's details since its draft was prepared."""
        return services.mandate_changes(self.draft, self.client, self.principal)

    @property
    def can_upload(self) -> bool:
        # An expired link: the client may still return a signed paper copy.
        return self.mandate is not None and (
            self.mandate.is_awaiting or self.mandate.state == MandateState.EXPIRED
        )

    @property
    def link_expires(self):
        mandate = self.mandate
        if mandate is None or mandate.sent_at is None:
            return None
        return tokens.expires_at(mandate.sent_at)

    @cached_property
    def directors(self) -> list[dict]:
        if self._directors is services.UNKNOWN:
            return RegistersCard(self.client).directors
        return self._directors or []

    @cached_property
    def signatory(self) -> str:
        """Who signs (signed): the mandate's representative while it is open or signed,
        else the principal contact a new mandate would go to."""
        mandate = self.mandate
        if mandate is not None and mandate.state not in (
            MandateState.REVOKED,
            MandateState.EXPIRED,
        ):
            return mandate.representative
        principal = self.principal
        if principal is services.UNKNOWN:
            principal = services.principal_contact(self.client)
        return (principal.full_name if principal is not None else "") or ""

    @cached_property
    def signatory_unlisted(self) -> bool:
        """The register knows the directors, and the signatory is none of them."""
        if not self.signatory:
            return False
        directors = self.directors
        return bool(directors) and not is_listed(self.signatory, directors)

    @property
    def can_revoke(self) -> bool:
        return self.mandate is not None and self.mandate.state not in (
            MandateState.REVOKED,
            MandateState.EXPIRED,
        )

    @cached_property
    def reminders(self) -> list:
        """The automatic reminders of the current mandate, in order."""
        if self.mandate is None or not self.mandate.reminders_sent:
            return []  # none sent: no query
        return list(self.mandate.reminders.all())

    @cached_property
    def next_reminder(self):
        return lifecycle.next_reminder_at(self.mandate) if self.mandate is not None else None

    @cached_property
    def changes(self) -> list[str]:
        """What changed in the client's details since its mandate was generated."""
        return services.mandate_changes(self.mandate, self.client, self.principal)

    @property
    def can_regenerate(self) -> bool:
        return bool(self.changes) and not self.blockers

    @property
    def signed(self) -> bool:
        return self.mandate is not None and self.mandate.is_signed

    @property
    def max_size_mb(self) -> int:
        return services.MAX_SIGNED_SIZE // (1024 * 1024)

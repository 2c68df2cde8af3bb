"""What the client page's Réforme panel shows (also the no-JavaScript fallback page)."""

from __future__ import annotations

from functools import cached_property

from vigie.clients.models import Client
from vigie.reform import services
from vigie.reform.forms import PaForm
from vigie.reform.models import MandateState


class ReformPanel:
    def __init__(
        self,
        client: Client,
        *,
        errors: dict | None = None,
        pa_form: PaForm | None = None,
        principal=services.UNKNOWN,
    ):
        self.client = client
        # The client page passes the principal contact it already has (or None).
        self.principal = principal
        self.errors = errors or {}
        self.pa_form = pa_form or PaForm(
            initial={
                "pa_status": client.pa_status,
                "pa_name": client.pa_name,
                "pa_registered_at": client.pa_registered_at,
            }
        )

    @cached_property
    def mandate(self):
        return services.current_mandate(self.client)

    @cached_property
    def blockers(self) -> list[str]:
        return services.mandate_blockers(self.client, self.principal)

    @property
    def can_upload(self) -> bool:
        return self.mandate is not None and self.mandate.state == MandateState.SENT

    @property
    def can_revoke(self) -> bool:
        return self.mandate is not None and self.mandate.state != MandateState.REVOKED

    @property
    def signed(self) -> bool:
        return self.mandate is not None and self.mandate.is_signed

    @property
    def max_size_mb(self) -> int:
        return services.MAX_SIGNED_SIZE // (1024 * 1024)

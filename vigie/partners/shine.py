"""HTTP client of the partner contract (docs/partner-api.md).

Retries with backoff on 5xx, timeouts, connection errors and malformed answers; never on
4xx, which are the partner's final word (PartnerRefused).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)


def shine_signin_url() -> str:
    """Where a client signs in to its Shine account (SHINE_SIGNIN_URL, else the
    partner's `/connexion/` page, docs/partner-api.md)."""
    configured = settings.SHINE_SIGNIN_URL
    return configured or settings.SHINE_API_URL.rstrip("/") + "/connexion/"


class PartnerUnavailable(Exception):
    """The partner could not answer now (5xx, timeout, down, garbage): try again later."""


@dataclass
class PartnerRefused(Exception):
    """A 4xx: the request itself is refused. Retrying would not help."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class ShineClient:
    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float = 0.5,
    ):
        self.base_url = (base_url or settings.SHINE_API_URL).rstrip("/")
        # Only HTTP: urlopen would also read file: and ftp: URLs.
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ImproperlyConfigured(f"SHINE_API_URL must be http(s): {self.base_url!r}")
        self.api_key = api_key or settings.SHINE_API_KEY
        self.timeout = timeout if timeout is not None else settings.SHINE_TIMEOUT
        self.retries = retries if retries is not None else settings.SHINE_RETRIES
        self.backoff = backoff

    def _once(self, path: str, body: dict, headers: dict) -> dict:
        data = json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - http(s), checked in __init__
            self.base_url + path,
            data=data,
            method="POST",
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                **headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                raise PartnerUnavailable(f"HTTP {exc.code}") from None
            try:
                error = json.loads(exc.read() or b"{}")
            except ValueError:
                error = {}
            raise PartnerRefused(
                exc.code, str(error.get("code", "refused")), str(error.get("message", ""))
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise PartnerUnavailable(str(exc)[:200]) from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise PartnerUnavailable("réponse illisible du partenaire") from None
        if not isinstance(answer, dict):
            raise PartnerUnavailable("réponse illisible du partenaire")
        return answer

    def _post(self, path: str, body: dict, headers: dict | None = None) -> dict:
        for attempt in range(self.retries + 1):
            try:
                return self._once(path, body, headers or {})
            except PartnerUnavailable as exc:
                if attempt == self.retries:
                    raise
                log.warning("partner %s unavailable (%s), retrying", path, exc)
                time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def create_invitation(self, payload: dict, *, idempotency_key: str) -> dict:
        answer = self._post("/api/v1/invitations", payload, {"Idempotency-Key": idempotency_key})
        if not answer.get("id") or not answer.get("onboarding_url"):
            raise PartnerUnavailable("réponse incomplète du partenaire")
        return answer

    def cancel_invitation(self, partner_invitation_id: str) -> dict:
        return self._post(f"/api/v1/invitations/{partner_invitation_id}/cancel", {})

    def create_access_link(
        self, *, account_id: str, collaborator_email: str, collaborator_name: str, firm_name: str
    ) -> str:
        answer = self._post(
            "/api/v1/access-links",
            {
                "account_id": account_id,
                "collaborator_email": collaborator_email,
                "collaborator_name": collaborator_name,
                "firm_name": firm_name,
            },
        )
        if not answer.get("url"):
            raise PartnerUnavailable("réponse incomplète du partenaire")
        return answer["url"]

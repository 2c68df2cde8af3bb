"""The registers' HTTP calls (the same plain approach as vigie/partners/shine.py), paced
by the shared bucket (vigie.registries.pace).

Timeouts, connection errors, 5xx and answers that cannot be read are retried with
backoff, then raised as RegisterUnavailable with a French reason; a `429` waits for its
`Retry-After` (for every process) and does not count as a try; any other 4xx is the
register's final word (RegisterRefused).
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from vigie.registries import pace

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_THROTTLED = 10  # 429s in a row before giving up for now
USER_AGENT = "Vigie (console de supervision de cabinets comptables)"


class RegisterUnavailable(Exception):
    """The register could not answer now: try again later. The message is French."""


@dataclass
class RegisterRefused(Exception):
    status: int
    message: str

    def __str__(self) -> str:
        return f"HTTP {self.status} : {self.message}"


def checked_base_url(url: str, setting: str) -> str:
    # Only HTTP: urlopen would also read file: and ftp: URLs.
    if urlsplit(url).scheme not in ("http", "https"):
        raise ImproperlyConfigured(f"{setting} must be http(s): {url!r}")
    return url.rstrip("/")


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.1), 120.0)
    except ValueError:
        return 1.0


@dataclass
class Caller:
    service: str
    rate: float
    timeout: float
    retries: int
    backoff: float = 0.5

    def call(
        self,
        url: str,
        parse: Callable[[int, bytes], T],
        *,
        data: bytes | None = None,
        headers: dict | None = None,
        stream: bool = False,
    ) -> T:
        """`parse(status, body)` turns a 2xx answer into the result or raises
        RegisterUnavailable (garbage), which is retried like a 5xx. With `stream`, `body`
        is the open response, read as it comes (a large download)."""
        attempt = throttled = 0
        while True:
            pace.acquire(self.service, self.rate)
            request = urllib.request.Request(  # noqa: S310 - http(s), checked_base_url
                url,
                data=data,
                method="POST" if data is not None else "GET",
                headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return parse(response.status, response if stream else response.read())
            except urllib.error.HTTPError as exc:
                if exc.code == 429:
                    throttled += 1
                    if throttled > MAX_THROTTLED:
                        raise RegisterUnavailable("limite de débit du registre atteinte") from None
                    pace.block(self.service, _retry_after(exc.headers.get("Retry-After")))
                    continue
                if exc.code < 500:
                    raise RegisterRefused(
                        exc.code, exc.read()[:200].decode(errors="replace")
                    ) from None
                error = RegisterUnavailable(f"le registre a répondu HTTP {exc.code}")
            except RegisterUnavailable as exc:
                error = exc
            except TimeoutError:
                error = RegisterUnavailable("le registre n'a pas répondu à temps")
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, TimeoutError):
                    error = RegisterUnavailable("le registre n'a pas répondu à temps")
                else:
                    error = RegisterUnavailable(f"registre injoignable ({str(reason)[:120]})")
            if attempt >= self.retries:
                raise error
            log.warning("%s: %s, retrying", self.service, error)
            time.sleep(self.backoff * 2**attempt)
            attempt += 1

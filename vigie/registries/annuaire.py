"""The e-invoicing directory through a platform's (PA's) directory API: AFNOR XP Z12-013
Directory Service, `POST /v1/directory-line/search` by SIREN or SIRET, and the directory's
CSV export as an alternative for a whole portfolio. What is sourced and what is assumed of
its shapes: sandbox/registers.py.

Access: a firm's own connection (`DirectoryConnection`: the service's URL and OAuth2
client credentials, RFC 6749 §4.4), else the server's ANNUAIRE_API_URL with its bearer
ANNUAIRE_API_KEY (`connector_for`). A token is kept in the `default` cache until shortly
before it expires (docs/CACHING.md); a `401` fetches a new one, once.
"""

from __future__ import annotations

import base64
import csv
import http.client
import io
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import date
from urllib.parse import quote_plus, urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables
from stdnum.fr import siren as stdnum_siren

from vigie.lib import crypto
from vigie.lib.netguard import PrivateAddress, refuse_private
from vigie.registries.http import (
    USER_AGENT,
    Caller,
    RegisterRefused,
    RegisterUnavailable,
    checked_base_url,
)
from vigie.registries.models import DirectoryConnection

log = logging.getLogger(__name__)

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


def _export_parser(sirens: set[str] | None):
    """Reads the CSV export as it downloads, keeping the lines of `sirens` (all: None)."""

    def parse(status: int, response) -> list[DirectoryLine]:
        try:
            reader = csv.DictReader(
                io.TextIOWrapper(response, encoding="utf-8-sig", newline=""), delimiter=";"
            )
            if not {"addressingIdentifier", "siren"} <= set(reader.fieldnames or ()):
                raise RegisterUnavailable("export de l'annuaire illisible")
            lines = []
            for row in reader:
                if sirens is None or row.get("siren") in sirens:
                    lines.append(line_from({k: v for k, v in row.items() if k}))
        except (UnicodeDecodeError, csv.Error):
            raise RegisterUnavailable("export de l'annuaire illisible") from None
        except http.client.HTTPException:  # the download cut short
            raise RegisterUnavailable("export de l'annuaire interrompu") from None
        return lines

    return parse


# --- Access: a bearer token -----------------------------------------------------------


class CredentialsRefused(RegisterRefused):
    """The platform's token URL refused the client id and secret."""


class StaticToken:
    """The server's ANNUAIRE_API_KEY, a bearer token used as it is."""

    def __init__(self, token: str):
        self._token = token

    def token(self) -> str:
        return self._token

    def renew(self) -> str | None:
        return None  # nothing to ask for


CACHE_CONTEXT = "registries.directory_token"


def token_cache_key(connection: DirectoryConnection) -> str:
    # A connection's id is never reused and its version grows with every save: new
    # credentials never read an old token.
    return f"annuaire-token:{connection.firm_id}:{connection.pk}:{connection.version}"


class ClientCredentials:
    """A bearer token from the platform's token URL: OAuth2 client credentials grant
    (RFC 6749 §4.4), the client id and secret by HTTP Basic (§2.3.1). With `cache_key`,
    the token is kept (encrypted) in the `default` cache, shared by every process, until
    shortly before its `expires_in`. The secret is never logged."""

    @sensitive_variables("secret")
    def __init__(
        self,
        token_url: str,
        client_id: str,
        secret: str,
        *,
        cache_key: str | None,
        timeout: float,
        retries: int,
        backoff: float = 0.5,
    ):
        self.token_url = checked_base_url(token_url, "token_url")
        self.client_id, self._secret = client_id, secret
        self.cache_key = cache_key
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._held: tuple[str, float] | None = None  # this connector's token, its deadline

    def __repr__(self) -> str:
        return f"ClientCredentials({self.token_url!r}, {self.client_id!r})"

    def token(self) -> str:
        if self._held and time.monotonic() < self._held[1]:
            return self._held[0]
        if self.cache_key:
            cached = cache.get(self.cache_key)
            token = crypto.decrypt(CACHE_CONTEXT, cached) if isinstance(cached, str) else None
            if token:
                return token
        return self._fetch()

    def renew(self) -> str:
        """The directory refused the token (revoked, expired early): ask for another."""
        self._held = None
        if self.cache_key:
            cache.delete(self.cache_key)
        return self._fetch()

    @sensitive_variables("basic")
    def _fetch(self) -> str:
        basic = base64.b64encode(
            f"{quote_plus(self.client_id)}:{quote_plus(self._secret)}".encode()
        ).decode()
        request = urllib.request.Request(  # noqa: S310 - http(s), checked_base_url
            self.token_url,
            data=urlencode({"grant_type": "client_credentials"}).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        attempt = 0
        while True:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    token, expires_in = _parse_token(response.read())
                break
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    raise _token_refused(exc.code, exc.read()[:500]) from None
                error = RegisterUnavailable(f"le serveur de jetons a répondu HTTP {exc.code}")
            except RegisterUnavailable as exc:
                error = exc
            except TimeoutError:
                error = RegisterUnavailable("le serveur de jetons n'a pas répondu à temps")
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, TimeoutError):
                    error = RegisterUnavailable("le serveur de jetons n'a pas répondu à temps")
                else:
                    error = RegisterUnavailable(
                        f"serveur de jetons injoignable ({str(reason)[:120]})"
                    )
            if attempt >= self.retries:
                raise error
            log.warning("annuaire token: %s, retrying", error)
            time.sleep(self.backoff * 2**attempt)
            attempt += 1
        # Kept until shortly before it expires: a call never leaves with a dying token.
        keep = expires_in - max(1, min(60, expires_in // 5))
        if keep > 0:
            self._held = (token, time.monotonic() + keep)
            if self.cache_key:
                cache.set(self.cache_key, crypto.encrypt(CACHE_CONTEXT, token), timeout=keep)
        return token


def _parse_token(body: bytes) -> tuple[str, int]:
    """RFC 6749 §5.1: `access_token`, `token_type` (Bearer) and `expires_in` (seconds,
    recommended: 5 minutes when absent)."""
    try:
        answer = json.loads(body)
    except ValueError:
        raise RegisterUnavailable("réponse du serveur de jetons illisible") from None
    if not isinstance(answer, dict):
        raise RegisterUnavailable("réponse du serveur de jetons illisible")
    token, kind = answer.get("access_token"), answer.get("token_type")
    expires_in = answer.get("expires_in", 300)
    if not isinstance(token, str) or not token or str(kind).lower() != "bearer":
        raise RegisterUnavailable("réponse du serveur de jetons illisible")
    if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in < 0:
        expires_in = 300
    return token, expires_in


def _token_refused(status: int, body: bytes) -> RegisterRefused:
    """RFC 6749 §5.2: `{"error": "invalid_client", …}`, 401 (or 400) for a wrong client id
    or secret."""
    try:
        error = str(json.loads(body).get("error") or "")[:40]
    except (ValueError, AttributeError):
        error = ""
    if status == 401 or error in ("invalid_client", "unauthorized_client"):
        return CredentialsRefused(
            status, f"identifiants refusés par la plateforme ({error or 'invalid_client'})"
        )
    if error:
        return RegisterRefused(status, f"demande de jeton refusée ({error})")
    return RegisterRefused(status, f"l'URL du jeton a répondu HTTP {status}")


# --- The connector ----------------------------------------------------------------------


def bucket(base_url: str) -> str:
    """The pace's bucket: one per platform host, each limiting its own API."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return f"annuaire:{host}"[:100]


class AnnuaireClient:
    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        auth: StaticToken | ClientCredentials | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float = 0.5,
    ):
        self.base_url = checked_base_url(base_url or settings.ANNUAIRE_API_URL, "ANNUAIRE_API_URL")
        if auth is None:
            token = token if token is not None else settings.ANNUAIRE_API_KEY
            if not token:
                raise ImproperlyConfigured("ANNUAIRE_API_KEY is required to read the directory.")
            auth = StaticToken(token)
        self.auth = auth
        self.caller = Caller(
            bucket(self.base_url),
            rate=settings.ANNUAIRE_RATE,
            timeout=timeout if timeout is not None else settings.ANNUAIRE_TIMEOUT,
            retries=retries if retries is not None else settings.REGISTRY_RETRIES,
            backoff=backoff,
        )

    @property
    def source(self) -> str:
        return f"{SOURCE} ({self.base_url})"

    def _headers(self, token: str, stream: bool) -> dict:
        return {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "text/csv" if stream else "application/json",
        }

    def _call(self, path: str, parse, *, data: bytes | None = None, stream: bool = False):
        """One call with the bearer token; a `401` renews the token and tries once more."""
        url = f"{self.base_url}{path}"
        try:
            return self.caller.call(
                url,
                parse,
                data=data,
                headers=self._headers(self.auth.token(), stream),
                stream=stream,
            )
        except RegisterRefused as exc:
            if exc.status != 401 or (token := self.auth.renew()) is None:
                raise
        return self.caller.call(
            url, parse, data=data, headers=self._headers(token, stream), stream=stream
        )

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
            page, total = self._call(
                "/v1/directory-line/search", _parse_page, data=json.dumps(body).encode()
            )
            found.extend(page)
            if not page or len(found) >= total:
                return found

    def export(self, sirens: set[str] | None = None) -> list[DirectoryLine]:
        """The whole directory as the CSV export gives it, in one call; with `sirens`,
        only their lines are kept (the export is read as it downloads)."""
        return self._call("/v1/directory-line/export.csv", _export_parser(sirens), stream=True)


@sensitive_variables("secret")
def connector_for(firm, **options) -> AnnuaireClient:
    """The firm's own connection to its platform's directory, else the server's."""
    connection = DirectoryConnection.objects.for_firm(firm).first()
    if connection is None:
        return AnnuaireClient(**options)
    try:  # resolved again: a name may have moved since it was saved
        refuse_private(connection.base_url)
        refuse_private(connection.token_url)
    except PrivateAddress:
        raise RegisterUnavailable(
            "adresse de la plateforme refusée (elle mène au réseau interne du serveur) : "
            "corrigez-la dans Paramètres › Annuaire"
        ) from None
    secret = connection.get_secret()
    if secret is None:
        raise RegisterUnavailable(
            "secret de la plateforme illisible (la clé du serveur a changé) : "
            "enregistrez-le de nouveau dans Paramètres › Annuaire"
        )
    auth = ClientCredentials(
        connection.token_url,
        connection.client_id,
        secret,
        cache_key=token_cache_key(connection),
        timeout=options.get("timeout") or settings.ANNUAIRE_TIMEOUT,
        retries=settings.REGISTRY_RETRIES if options.get("retries") is None else options["retries"],
    )
    return AnnuaireClient(connection.base_url, auth=auth, **options)


# --- « Tester la connexion » -------------------------------------------------------------

PROBE_TIMEOUT = 5
PROBE_SIREN = "356000000"  # La Poste: a SIREN every directory can be asked about


@sensitive_variables("secret")
def connection_test(
    *, base_url: str, token_url: str, client_id: str, secret: str, siren: str = ""
) -> tuple[bool, str]:
    """A token from the token URL, then one directory search: whether it worked, and
    what happened, in French. Nothing is cached."""
    try:
        refuse_private(token_url)
        refuse_private(base_url)
    except PrivateAddress as exc:
        return False, str(exc)
    auth = ClientCredentials(
        token_url, client_id, secret, cache_key=None, timeout=PROBE_TIMEOUT, retries=0
    )
    try:
        auth.token()
    except CredentialsRefused as exc:
        return False, (
            f"Identifiants refusés par la plateforme (HTTP {exc.status}) : vérifiez "
            "l'identifiant client et le secret."
        )
    except RegisterRefused as exc:
        return False, f"Jeton non obtenu : {exc.message} (vérifiez l'URL du jeton)."
    except RegisterUnavailable as exc:
        return False, f"Jeton non obtenu : {exc}."
    client = AnnuaireClient(base_url, auth=auth, timeout=PROBE_TIMEOUT, retries=0)
    siren = siren or PROBE_SIREN
    try:
        lines = client.lines(siren)
    except RegisterRefused as exc:
        if exc.status in (401, 403):
            return False, (
                f"Jeton obtenu, mais refusé par l'annuaire (HTTP {exc.status}) : ce client "
                "n'a pas accès à ce service d'annuaire."
            )
        if exc.status == 404:
            return False, (
                "Jeton obtenu, mais aucun service d'annuaire à cette URL (HTTP 404) : "
                "vérifiez l'URL du service."
            )
        return False, f"Jeton obtenu, mais l'annuaire a refusé la recherche (HTTP {exc.status})."
    except RegisterUnavailable as exc:
        return False, f"Jeton obtenu, mais l'annuaire n'a pas répondu : {exc}."
    count = f"{len(lines)} ligne{'s' if len(lines) > 1 else ''}"
    return True, (
        f"Connexion réussie : jeton obtenu, l'annuaire a répondu ({count} pour le SIREN {siren})."
    )

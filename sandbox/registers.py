"""The public registers, played by the sandbox: the company register and a platform's
e-invoicing directory. Data: sandbox/registers_seed.py.

**Company register — API Recherche d'entreprises** (`GET /recherche-entreprises/search`).
Sourced from the service's own repository, annuaire-entreprises-data-gouv-fr/search-api
(`app/doc/open-api.yml`, `app/models/unite_legale.py`, `app/models/response.py`,
`app/service/formatters/etablissements.py`, `app/elastic/text_search.py`):

- `q` of exactly 9 digits (SIREN) or 14 digits (SIRET) is a direct lookup that ignores
  every other filter; `per_page` is at most 25, `page` from 1;
- the answer is `{results, total_results, page, per_page, total_pages}`; a result carries
  `siren`, `nom_complet`, `nom_raison_sociale`, `nature_juridique` (INSEE catégorie
  juridique), `activite_principale`, `etat_administratif` (A / C), `date_fermeture`,
  `nombre_etablissements(_ouverts)`, `siege{siret, adresse, est_siege, etat_administratif
  (A / F), activite_principale, …}`, `dirigeants[]` (`type_dirigeant` « personne
  physique » with `nom`, `prenoms`, `qualite`, or « personne morale » with `siren`,
  `denomination`), `matching_etablissements[]` (for a SIRET: that establishment);
- errors are `{"erreur": "…"}`; at most 7 requests per second per IP, beyond which
  `429` with a `Retry-After` header (the body of that 429 is assumed).

Assumed: a SIREN query lists the unit's establishments in `matching_etablissements` (up to
`limite_matching_etablissements`, 10 by default, as the parameter's documentation says).

**E-invoicing directory — AFNOR XP Z12-013 Directory Service, v1.2.0**
(`POST /afnor-directory/v1/directory-line/search`). Sourced from the clients generated
from that Swagger (factpulse SDKs' AFNOR models, a Java client `fr.neotimo.xpz12013`) and
a platform integration reading it: a bearer token; the body `{filters: {siren: {op:
"strict", value}, siret: {…}}, limit, ignore, sorting}`; `204` when nothing matches, else
`{results, totalNumberOfResults}`; a line has `addressingIdentifier` (`SIREN`,
`SIREN_SIRET`, `SIREN_SUFFIX` or `SIREN_SIRET_ROUTINGCODE`), `siren`, `siret`,
`addressingSuffix`, `routingCode{routingIdentifier, routingIdentifierType,
routingCodeName}`, `platformType` (UNTDID 3035, `WK` for a PA) and `directoryLineStatus`
(Upcoming / Enabled / Disabled); errors are `{errorCode, errorMessage}`.

Assumed, because v1.1.0 removed them from the directory-line payload and the central
directory (PPF annuaire) publishes them: `platformName`, `platformRegistrationNumber` (the
PA's matricule, 4 digits) and `effectiveDate` (the line's start of effect). So is the CSV
export route (`GET /afnor-directory/v1/directory-line/export.csv`, `;`-separated, one
line per row) and the directory's rate limit (10 per second, configurable).

**Its access — OAuth2 client credentials** (the XP Z12-013 APIs' security scheme; RFC 6749
§4.4, §2.3.1, §5.1–5.2, RFC 6750 §3): `POST /afnor-directory/oauth/token` with
`grant_type=client_credentials` and the client id and secret by HTTP Basic (each
form-urlencoded) or in the body; `{access_token, token_type: "Bearer", expires_in}`,
`Cache-Control: no-store`; a wrong client is `401 {"error": "invalid_client",
"error_description"}` with `WWW-Authenticate: Basic`, another grant `400
{"error": "unsupported_grant_type"}`. The token's path under the directory's base and its
lifetime (300 s, configurable) are assumed; a platform publishes its own. The directory
takes such a token or the sandbox's fixed ANNUAIRE_API_KEY; otherwise `401` with
`WWW-Authenticate: Bearer error="invalid_token"`. Tokens are signed by the sandbox (no
table): any process of it reads them. The clients: registers_seed.OAUTH_CLIENTS.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hmac
import io
import json
import math
import threading
import time
from collections import deque
from urllib.parse import unquote_plus

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox import registers_seed as seed
from sandbox.api import hook_view
from sandbox.models import (
    DirectoryEntry,
    RegisterCall,
    RegisterCompany,
    RegisterEstablishment,
    RegisterFault,
)

# Requests accepted in the last second, per service and client IP (one sandbox process).
_window: dict[tuple[str, str], deque] = {}
_window_lock = threading.Lock()
_rates: dict[str, int] = {}
# The directory's OAuth2 clients and tokens (this process; the tests' hooks set them).
TOKEN_TTL = 300
_oauth: dict = {}
# Tokens issued and directory calls, per client id ("static": ANNUAIRE_API_KEY).
_oauth_counts: dict[str, dict[str, int]] = {}


def _oauth_reset() -> None:
    _oauth.update(ttl=TOKEN_TTL, not_before=0.0, clients=dict(seed.OAUTH_CLIENTS))
    _oauth_counts.update(tokens={}, calls={})


_oauth_reset()


def _count(kind: str, client: str) -> None:
    with _window_lock:
        _oauth_counts[kind][client] = _oauth_counts[kind].get(client, 0) + 1


def _rate(service: str) -> int:
    default = (
        settings.SANDBOX_SIRENE_RATE if service == "sirene" else settings.SANDBOX_ANNUAIRE_RATE
    )
    return _rates.get(service, default)


def _throttled(request, service: str) -> int | None:
    """Seconds to wait when this call is one too many in the last second, else None."""
    rate = _rate(service)
    if rate <= 0:
        return None
    key = (service, request.META.get("REMOTE_ADDR", ""))
    now = time.monotonic()
    with _window_lock:
        hits = _window.setdefault(key, deque())
        while hits and hits[0] <= now - 1.0:
            hits.popleft()
        if len(hits) >= rate:
            return max(1, math.ceil(hits[0] + 1.0 - now))
        hits.append(now)
    return None


def _record(service: str, query: str, status: int) -> None:
    RegisterCall.objects.create(service=service, query=query[:40], status=status, at=time.time())


def _fault(service: str) -> RegisterFault | None:
    with transaction.atomic():
        fault = (
            RegisterFault.objects.select_for_update()
            .filter(service=service, remaining__gt=0)
            .first()
        )
        if fault is None:
            return None
        fault.remaining -= 1
        fault.save()
    return fault


def _misbehave(request, service: str, query: str, error) -> HttpResponse | None:
    """The rate limit, then any configured fault, as the real service would show them."""
    throttle = _throttled(request, service)
    if throttle is not None:
        _record(service, query, 429)
        response = error(429, "Trop de requêtes : réessayez plus tard.")
        response["Retry-After"] = str(throttle)
        return response
    return faulty(service, query, error)


def faulty(service: str, query: str, error) -> HttpResponse | None:
    """The service's next configured fault, as the real service would show it, if any."""
    fault = _fault(service)
    if fault is None:
        return None
    _record(service, query, 429 if fault.mode == "429" else 0)
    if fault.mode == "429":
        response = error(429, "Trop de requêtes : réessayez plus tard.")
        response["Retry-After"] = str(fault.retry_after)
        return response
    if fault.mode == "timeout":
        time.sleep(30)
        return error(504, "Délai dépassé.")
    if fault.mode == "malformed":
        return HttpResponse('{"results": [', content_type="application/json")
    return error(500, "Erreur interne.")


# --- Company register ------------------------------------------------------------------


def _sirene_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"erreur": message}, status=status)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return -1


@require_GET
def search(request):
    q = request.GET.get("q", "").replace(" ", "")
    if (faulty := _misbehave(request, "sirene", q, _sirene_error)) is not None:
        return faulty
    page, per_page = _int(request.GET.get("page"), 1), _int(request.GET.get("per_page"), 10)
    matching = _int(request.GET.get("limite_matching_etablissements"), 10)
    if page < 1 or not 1 <= per_page <= 25 or not 1 <= matching <= 100:
        _record("sirene", q, 400)
        return _sirene_error(400, "Paramètres de pagination invalides.")
    if not q:
        _record("sirene", q, 400)
        return _sirene_error(400, "Veuillez indiquer au moins un paramètre de recherche.")
    results = []
    if q.isdigit() and len(q) in (9, 14):
        siren = q[:9]
        company = RegisterCompany.objects.filter(siren=siren).first()
        if len(q) == 14:
            found = RegisterEstablishment.objects.filter(siret=q).values_list("data", flat=True)
        else:
            found = RegisterEstablishment.objects.filter(siren=siren).order_by("siret")
            found = found.values_list("data", flat=True)[:matching]
        if company is not None and found:
            results = [{**company.data, "matching_etablissements": list(found)}]
    else:
        for company in RegisterCompany.objects.filter(data__nom_complet__icontains=q)[:per_page]:
            results.append({**company.data, "matching_etablissements": [company.data["siege"]]})
    _record("sirene", q, 200)
    total = len(results)
    return JsonResponse(
        {
            "results": results[(page - 1) * per_page : page * per_page],
            "total_results": total,
            "page": page,
            "per_page": per_page,
            "total_pages": max(1, math.ceil(total / per_page)),
        }
    )


# --- E-invoicing directory -------------------------------------------------------------


def _directory_error(status: int, message: str) -> JsonResponse:
    codes = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 429: "TOO_MANY_REQUESTS"}
    return JsonResponse(
        {"errorCode": codes.get(status, "SERVER_ERROR"), "errorMessage": message}, status=status
    )


SIGNING_SALT = "sandbox.registers.directory-token"


def _directory_caller(request) -> str | None:
    """Who calls the directory: "static" for the fixed ANNUAIRE_API_KEY, the client id
    of a token the endpoint issued and that is still valid, else None."""
    header = request.headers.get("Authorization", "")
    if hmac.compare_digest(header, f"Bearer {settings.SANDBOX_ANNUAIRE_KEY}"):
        return "static"
    if header[:7].lower() != "bearer ":
        return None
    try:
        claims = signing.loads(header[7:].strip(), salt=SIGNING_SALT)
    except signing.BadSignature:
        return None
    if (
        not isinstance(claims, dict)
        or claims.get("c") not in _oauth["clients"]
        or claims.get("exp", 0) <= time.time()
        or claims.get("iat", 0) < _oauth["not_before"]
    ):
        return None
    return claims["c"]


def _unauthorized() -> JsonResponse:
    response = _directory_error(401, "Jeton d'accès invalide.")
    response["WWW-Authenticate"] = 'Bearer realm="afnor-directory", error="invalid_token"'
    return response


def _basic_credentials(request) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: HTTP Basic of the form-urlencoded id and secret, or the body."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, colon, secret = decoded.partition(":")
        return (unquote_plus(client_id), unquote_plus(secret)) if colon else None
    if "client_id" in request.POST:
        return request.POST["client_id"], request.POST.get("client_secret", "")
    return None


def _oauth_error(status: int, error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="afnor-directory"'
    return response


@csrf_exempt
@require_POST
def directory_token(request):
    """A bearer token for a client of the directory (OAuth2 client credentials)."""
    credentials = _basic_credentials(request)
    expected = _oauth["clients"].get(credentials[0]) if credentials else None
    if expected is None or not hmac.compare_digest(credentials[1].encode(), expected.encode()):
        return _oauth_error(401, "invalid_client", "Client inconnu ou secret invalide.")
    if request.POST.get("grant_type") != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", "Seul grant_type=client_credentials est accepté."
        )
    now, ttl = time.time(), _oauth["ttl"]
    token = signing.dumps({"c": credentials[0], "iat": now, "exp": now + ttl}, salt=SIGNING_SALT)
    _count("tokens", credentials[0])
    response = JsonResponse({"access_token": token, "token_type": "Bearer", "expires_in": ttl})
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _filter(filters: dict, field: str) -> str | None:
    spec = filters.get(field)
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("op", "strict") != "strict":
        raise ValueError(field)
    return str(spec.get("value", ""))


@csrf_exempt
@require_POST
def directory_search(request):
    if (caller := _directory_caller(request)) is None:
        return _unauthorized()
    _count("calls", caller)
    try:
        body = json.loads(request.body or b"{}")
        filters = body.get("filters") or {}
        siren, siret = _filter(filters, "siren"), _filter(filters, "siret")
        limit, ignore = int(body.get("limit", 100)), int(body.get("ignore", 0))
    except (ValueError, TypeError, AttributeError):
        return _directory_error(400, "Critères de recherche invalides.")
    query = siret or siren or ""
    if (faulty := _misbehave(request, "annuaire", query, _directory_error)) is not None:
        return faulty
    if not (siren or siret) or not 1 <= limit <= 1000 or ignore < 0:
        _record("annuaire", query, 400)
        return _directory_error(400, "Un filtre siren ou siret est obligatoire.")
    lines = DirectoryEntry.objects.order_by("addressing_identifier")
    if siren:
        lines = lines.filter(siren=siren)
    if siret:
        lines = lines.filter(siret=siret)
    total = lines.count()
    _record("annuaire", query, 200 if total else 204)
    if not total:
        return HttpResponse(status=204)
    page = list(lines.values_list("data", flat=True)[ignore : ignore + limit])
    return JsonResponse({"results": page, "totalNumberOfResults": total})


EXPORT_COLUMNS = [
    "addressingIdentifier",
    "siren",
    "siret",
    "addressingSuffix",
    "routingIdentifier",
    "platformType",
    "platformName",
    "platformRegistrationNumber",
    "effectiveDate",
    "directoryLineStatus",
]


@require_GET
def directory_export(request):
    if (caller := _directory_caller(request)) is None:
        return _unauthorized()
    _count("calls", caller)
    if (faulty := _misbehave(request, "annuaire", "export", _directory_error)) is not None:
        return faulty
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for line in DirectoryEntry.objects.order_by("addressing_identifier").values_list(
        "data", flat=True
    ):
        routing = line.get("routingCode") or {}
        row = {**line, "routingIdentifier": routing.get("routingIdentifier", "")}
        writer.writerow([row.get(column) or "" for column in EXPORT_COLUMNS])
    _record("annuaire", "export", 200)
    return HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")


# --- Test hooks (the partner's bearer key, like sandbox/api.py's) ----------------------


@require_POST
@hook_view
def registers_seed(request):
    entries = request.json.get("entries")
    if not isinstance(entries, list):
        return JsonResponse(
            {"code": "invalid_request", "message": "entries: une liste."}, status=422
        )
    counts = seed.load(entries, replace=bool(request.json.get("replace", True)))
    return JsonResponse(counts)


@require_POST
@hook_view
def registers_faults(request):
    service, mode = request.json.get("service"), request.json.get("mode")
    if service not in ("sirene", "annuaire") or mode not in (
        "500",
        "timeout",
        "malformed",
        "429",
        "none",
    ):
        return JsonResponse(
            {"code": "invalid_request", "message": "service ou mode inconnu."}, status=422
        )
    RegisterFault.objects.filter(service=service).delete()
    if mode != "none":
        RegisterFault.objects.create(
            service=service,
            mode=mode,
            remaining=int(request.json.get("count", 1)),
            retry_after=int(request.json.get("retry_after", 1)),
        )
    return JsonResponse({"service": service, "mode": mode})


@require_POST
@hook_view
def registers_config(request):
    """A register's rate; for the directory also `token_ttl` (seconds), `oauth_clients`
    ({id: secret}, added) and `revoke_tokens` (every token issued so far refused)."""
    service = request.json.get("service")
    if service not in ("sirene", "annuaire"):
        return JsonResponse({"code": "invalid_request", "message": "service inconnu."}, status=422)
    _rates[service] = int(request.json.get("rate", _rate(service)))
    with _window_lock:
        _window.clear()
    if service == "annuaire":
        _oauth["ttl"] = int(request.json.get("token_ttl", _oauth["ttl"]))
        _oauth["clients"].update(
            {str(k): str(v) for k, v in (request.json.get("oauth_clients") or {}).items()}
        )
        if request.json.get("revoke_tokens"):
            _oauth["not_before"] = time.time()
    return JsonResponse({"service": service, "rate": _rate(service)})


@require_POST
@hook_view
def registers_reset(request):
    RegisterCall.objects.all().delete()
    RegisterFault.objects.all().delete()
    _rates.clear()
    with _window_lock:
        _window.clear()
        _oauth_reset()
    return JsonResponse({"reset": True})


def _max_per_second(times: list[float]) -> int:
    """The most calls in any one-second window (sliding)."""
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@require_GET
@hook_view
def registers_state(request):
    state = {}
    for service in ("sirene", "annuaire"):
        calls = RegisterCall.objects.filter(service=service).order_by("at")
        answered = list(calls.exclude(status=429).values_list("at", "query"))
        by_query: dict[str, int] = {}
        for _, query in answered:
            by_query[query] = by_query.get(query, 0) + 1
        state[service] = {
            "calls": len(answered),
            "rejected": calls.filter(status=429).count(),
            "max_per_second": _max_per_second([at for at, _ in answered]),
            "calls_by_query": by_query,
            "faults_pending": sum(
                RegisterFault.objects.filter(service=service).values_list("remaining", flat=True)
            ),
            "rate": _rate(service),
        }
    with _window_lock:
        state["annuaire"]["tokens_by_client"] = dict(_oauth_counts["tokens"])
        state["annuaire"]["calls_by_client"] = dict(_oauth_counts["calls"])
    return JsonResponse(state)

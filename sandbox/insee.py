"""INSEE's API Sirene 3.11, played by the sandbox from the same companies as the API
Recherche d'entreprises (sandbox/registers.py, seeded by sandbox/registers_seed.py).

`GET|POST /api-sirene/3.11/siret` (a multi-criteria search; POST takes the same parameters
form-encoded, for long queries): `q` and `nombre` (1–1,000, 20 by default); the key in
`X-INSEE-Api-Key-Integration` (`401` without the right one). `200 {header{statut, message,
total, debut, nombre}, etablissements[]}`; `404 {header{statut: 404, message: "Aucun
élément trouvé pour q=…"}}` when nothing matches; `400` for a query it cannot read. Each
establishment: `siren`, `nic`, `siret`, `etablissementSiege`, `uniteLegale{…}`,
`adresseEtablissement{…}`, `periodesEtablissement[]`, as INSEE documents them.

Assumed or simplified: only the query forms Vigie sends are understood — `siret:N` joined
by `OR`, and `(siren:N OR …) AND etablissementSiege:true`; the public plan's limit of 30
requests a minute (`SANDBOX_INSEE_RATE`, per minute) answered by `429` with `Retry-After`;
the unit's closing date is not given (as in a /siret answer's `uniteLegale`).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.api import hook_view
from sandbox.models import RegisterCall, RegisterCompany, RegisterEstablishment, RegisterFault
from sandbox.registers import _record, faulty

SERVICE = "insee"
_SIRETS = re.compile(r"^siret:(\d{14})(?: OR siret:(\d{14}))*$")
_HEADS = re.compile(r"^\(siren:\d{9}(?: OR siren:\d{9})*\) AND etablissementSiege:true$")

_calls: deque = deque()
_lock = threading.Lock()
_rate: dict[str, int] = {}


def _per_minute() -> int:
    return _rate.get("per_minute", settings.SANDBOX_INSEE_RATE)


def _window() -> float:
    """The limit's window: a minute (tests shorten it)."""
    return _rate.get("window", 60)


def _throttled() -> int | None:
    limit = _per_minute()
    if limit <= 0:
        return None
    now = time.monotonic()
    with _lock:
        while _calls and _calls[0] <= now - _window():
            _calls.popleft()
        if len(_calls) >= limit:
            return max(1, math.ceil(_calls[0] + _window() - now))
        _calls.append(now)
    return None


def _answer(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"header": {"statut": status, "message": message, **extra}}, status=status)


def _unit(company: dict) -> dict:
    head = company.get("siege") or {}
    # A person has a name and first names, not a denomination (the seed's `nom_complet`
    # of a person is « NOM Prénom »).
    person = None if company.get("nom_raison_sociale") else company.get("nom_complet") or ""
    last, _, first = (person or "").partition(" ")
    return {
        "etatAdministratifUniteLegale": company.get("etat_administratif") or "A",
        "denominationUniteLegale": company.get("nom_raison_sociale") or None,
        "nomUniteLegale": last or None,
        "prenom1UniteLegale": first or None,
        "categorieJuridiqueUniteLegale": company.get("nature_juridique"),
        "activitePrincipaleUniteLegale": company.get("activite_principale"),
        "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2",
        "nicSiegeUniteLegale": str(head.get("siret") or "")[9:] or None,
    }


def _establishment(data: dict, company: dict) -> dict:
    siret = str(data["siret"])
    state = "A" if data.get("etat_administratif") == "A" else "F"
    return {
        "siren": siret[:9],
        "nic": siret[9:],
        "siret": siret,
        "etablissementSiege": bool(data.get("est_siege")),
        "uniteLegale": _unit(company),
        "adresseEtablissement": {
            "complementAdresseEtablissement": data.get("complement_adresse"),
            "numeroVoieEtablissement": data.get("numero_voie"),
            "indiceRepetitionEtablissement": data.get("indice_repetition"),
            "typeVoieEtablissement": data.get("type_voie"),
            "libelleVoieEtablissement": data.get("libelle_voie"),
            "codePostalEtablissement": data.get("code_postal"),
            "libelleCommuneEtablissement": data.get("libelle_commune"),
        },
        "periodesEtablissement": [
            {
                "dateFin": None,
                "dateDebut": data.get("date_fermeture")
                if state == "F"
                else data.get("date_debut_activite"),
                "etatAdministratifEtablissement": state,
                "activitePrincipaleEtablissement": data.get("activite_principale"),
            }
        ],
    }


@csrf_exempt
@require_http_methods(["GET", "POST"])
def siret_search(request):
    params = request.POST if request.method == "POST" else request.GET
    query = " ".join(params.get("q", "").split())
    if request.headers.get("X-INSEE-Api-Key-Integration") != settings.SANDBOX_INSEE_KEY:
        _record(SERVICE, query, 401)
        return JsonResponse(
            {"fault": {"code": 900901, "message": "Invalid Credentials"}}, status=401
        )
    if (wait := _throttled()) is not None:
        _record(SERVICE, query, 429)
        response = _answer(429, "Trop de requêtes")
        response["Retry-After"] = str(wait)
        return response
    if (faulty_answer := faulty(SERVICE, query, _answer)) is not None:
        return faulty_answer
    try:
        count = int(params.get("nombre") or 20)
    except ValueError:
        count = -1
    if not 1 <= count <= 1000:
        _record(SERVICE, query, 400)
        return _answer(400, "Le paramètre nombre doit être compris entre 1 et 1000")
    numbers = re.findall(r"\d{9,14}", query)
    if _SIRETS.match(query):
        found = RegisterEstablishment.objects.filter(siret__in=numbers).order_by("siret")
    elif _HEADS.match(query):
        found = RegisterEstablishment.objects.filter(
            siren__in=numbers, data__est_siege=True
        ).order_by("siret")
    else:
        _record(SERVICE, query, 400)
        return _answer(400, f"Requête non comprise par le bac à sable : q={query}")
    companies = {
        c.siren: c.data for c in RegisterCompany.objects.filter(siren__in={e.siren for e in found})
    }
    results = [_establishment(e.data, companies[e.siren]) for e in found if e.siren in companies][
        :count
    ]
    _record(SERVICE, query, 200 if results else 404)
    if not results:
        return _answer(404, f"Aucun élément trouvé pour q={query}")
    header = {"total": len(results), "debut": 0, "nombre": len(results)}
    return JsonResponse(
        {"header": {"statut": 200, "message": "OK", **header}, "etablissements": results}
    )


# --- Test hooks --------------------------------------------------------------------------


@require_POST
@hook_view
def insee_config(request):
    """`per_minute`: the limit (0: none), over `window` seconds (60; tests shorten it);
    `fault`: 500 / timeout / malformed / 429 / none for the next `count` calls."""
    if "per_minute" in request.json:
        _rate["per_minute"] = int(request.json["per_minute"])
        _rate["window"] = int(request.json.get("window", 60))
        with _lock:
            _calls.clear()
    mode = request.json.get("fault")
    if mode is not None:
        RegisterFault.objects.filter(service=SERVICE).delete()
        if mode != "none":
            RegisterFault.objects.create(
                service=SERVICE,
                mode=mode,
                remaining=int(request.json.get("count", 1)),
                retry_after=int(request.json.get("retry_after", 1)),
            )
    return JsonResponse({"per_minute": _per_minute()})


@require_GET
@hook_view
def insee_state(request):
    calls = RegisterCall.objects.filter(service=SERVICE)
    return JsonResponse(
        {
            "calls": calls.exclude(status__in=(429, 401)).count(),
            "rejected": calls.filter(status=429).count(),
            "unauthorized": calls.filter(status=401).count(),
            "per_minute": _per_minute(),
        }
    )

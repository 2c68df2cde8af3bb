from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vigie.clients.access import get_client
from vigie.lib.decorators import firm_required
from vigie.partners import services
from vigie.partners.shine import PartnerRefused, PartnerUnavailable
from vigie.partners.signatures import verify

EVENT_TYPES = {"account.activated", "invitation.expired", "account.closed"}
MAX_CREATED = 2**63 - 1  # `created` is stored in a bigint
_NOT_JSON = object()


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


@csrf_exempt  # authenticated by its HMAC signature, not by a session
@require_POST
def shine_webhook(request):
    try:
        event = json.loads(request.body)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        event = _NOT_JSON
    # Each invitation's events are signed with its own secret (docs/partner-api.md).
    secret = services.webhook_secret_for(event)
    if not verify(secret, request.headers.get("Shine-Signature", ""), request.body):
        return _error(401, "bad_signature", "Signature absente, invalide ou périmée.")
    if event is _NOT_JSON:
        return _error(400, "invalid_json", "Le corps n'est pas du JSON valide.")
    if not _is_event(event, request.body):
        return _error(400, "invalid_event", "Ce n'est pas un événement reconnu.")
    try:
        result = services.webhook_apply(event)
    except services.UnknownInvitation:
        return _error(404, "unknown_invitation", "Invitation inconnue.")
    return JsonResponse({"result": result})


def _is_event(event, body: bytes) -> bool:
    return (
        isinstance(event, dict)
        and event.get("type") in EVENT_TYPES
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 100
        # bool is an int subclass: `true` is no date.
        and type(event.get("created")) is int
        and 0 <= event["created"] <= MAX_CREATED
        and isinstance(event.get("data"), dict)
        # A JSON string holds a NUL only as this escape; PostgreSQL stores none.
        and b"\\u0000" not in body
    )


@require_POST
@firm_required
def shine_access(request, code: str):
    client = get_client(request, code)
    link = services.active_link_for(client)
    if link is None:
        raise Http404("Aucun compte Shine activé pour ce client.")
    try:
        url = services.shine_access_url(client=client, link=link, user=request.user)
    except (PartnerUnavailable, PartnerRefused):
        messages.error(request, "Shine ne répond pas pour le moment. Réessayez dans un instant.")
        return redirect("client_detail", code=client.code)
    return redirect(url)

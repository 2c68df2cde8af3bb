"""Vigie HTTP API v1 (django-ninja). Reference: docs/api.md and /api/v1/docs."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from ninja import NinjaAPI, Query, Router
from ninja.decorators import decorate_view
from ninja.responses import Status

from vigie.api import errors
from vigie.api import services as api_services
from vigie.api.auth import ApiKeyAuth
from vigie.api.errors import ERROR_RESPONSES, ApiError
from vigie.api.idempotency import idempotent
from vigie.api.schemas import (
    BulkIn,
    BulkOut,
    ClientIn,
    ClientOut,
    ClientPage,
    ContactIn,
    ContactOut,
    ContactPatch,
    EquipmentIn,
    EquipmentOut,
    EquipmentResult,
    InvitationOut,
    ReformIn,
    ReformOut,
    UpsertOut,
)
from vigie.clients import services as client_services
from vigie.clients.access import get_client, get_contact
from vigie.clients.forms import ContactForm
from vigie.clients.models import Client
from vigie.equipment.models import Equipment
from vigie.invitations.models import Invitation
from vigie.lib.text import fold

BULK_MAX = 1000

api = NinjaAPI(
    title="Vigie API",
    version="1",
    description="Clients, contacts, équipement et réforme d'un cabinet. Voir docs/api.md.",
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
)
errors.install(api)
router = Router(tags=["clients"])


def responses(ok: dict) -> dict:
    return {**ERROR_RESPONSES, **ok}


def _given(payload) -> dict:
    """The fields the request sent, less the nulls (a null changes nothing)."""
    return {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}


# --- Clients ---------------------------------------------------------------------------


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, pk = text.partition(":")
        if prefix != "id" or not pk.isdigit():
            raise ValueError(text)
        return int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ApiError(
            422, "invalid_cursor", "Ce curseur de pagination n'est pas valide."
        ) from None


def _utc(value: datetime) -> datetime:
    """The moment in UTC: ISO 8601 admits offsets that PostgreSQL refuses (past ±15:59)."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):  # past year 1 or 9999 once moved to UTC
        raise ApiError(422, "invalid_date", "Cette date est hors des limites acceptées.") from None


@router.get("/clients", response=responses({200: ClientPage}))
def list_clients(
    request,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
    q: str | None = Query(None, max_length=100, description="Nom, code client ou SIRET"),
    updated_since: datetime | None = None,
    include_archived: bool = False,
):
    qs = Client.objects.for_firm(request.firm).order_by("id")
    if not include_archived:
        qs = qs.active()
    if q and fold(q):
        qs = qs.filter(search_text__contains=fold(q))
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=_utc(updated_since))
    if cursor:
        qs = qs.filter(id__gt=_decode_cursor(cursor))
    items = list(qs[: limit + 1])
    next_cursor = _encode_cursor(items[limit - 1].pk) if len(items) > limit else None
    return {"items": items[:limit], "next_cursor": next_cursor}


@router.post("/clients/bulk", response=responses({200: BulkOut}))
@decorate_view(idempotent)
def bulk_upsert(request, payload: BulkIn):
    rows = payload.clients
    if len(rows) > BULK_MAX:
        raise ApiError(
            413,
            "too_many_rows",
            f"Au plus {BULK_MAX:,} clients par appel (reçu : {len(rows):,}) : "
            "découpez l'envoi en plusieurs appels.".replace(",", "\u202f"),
        )
    seen: dict[str, int] = {}
    accepted, results = [], [None] * len(rows)
    for index, row in enumerate(rows):
        code = row.code.strip()
        if code in seen:
            results[index] = {
                "index": index,
                "code": row.code,
                "result": "rejected",
                "errors": {"code": [f"Code client en double dans cet appel (index {seen[code]})."]},
            }
            continue
        seen[code] = index
        accepted.append((index, _given(row)))
    try:
        outcomes = client_services.clients_upsert_many(
            firm=request.firm,
            rows=[data for _, data in accepted],
            source=api_services.source_of(request.auth),
        )
    except IntegrityError:
        raise ApiError(409, "conflict", "Un autre appel modifie ces clients : réessayez.") from None
    for (index, data), outcome in zip(accepted, outcomes, strict=True):
        results[index] = {
            "index": index,
            "code": data["code"],
            "result": outcome.result,
            "errors": outcome.errors or None,
        }
    counts = dict.fromkeys(["created", "updated", "unchanged", "rejected"], 0)
    for row in results:
        counts[row["result"]] += 1
    return {"counts": counts, "results": results}


@router.get("/clients/{code}", response=responses({200: ClientOut}))
def get_one(request, code: str):
    return get_client(request, code)


@router.put("/clients/{code}", response=responses({200: UpsertOut, 201: UpsertOut}))
def upsert_client(request, code: str, payload: ClientIn):
    try:
        outcome = client_services.client_upsert(
            firm=request.firm,
            code=code,
            data=_given(payload),
            source=api_services.source_of(request.auth),
        )
    except IntegrityError:
        raise ApiError(409, "conflict", "Un autre appel modifie ce client : réessayez.") from None
    if outcome.result == "rejected":
        message = "Les données du client ne sont pas valides."
        raise ApiError(422, "invalid_client", message, outcome.errors)
    status = 201 if outcome.result == "created" else 200
    return Status(status, {"result": outcome.result, "client": outcome.client})


@router.delete("/clients/{code}", response=responses({200: UpsertOut}))
def archive_client(request, code: str):
    client = get_client(request, code)
    if client.archived_at is not None:
        return {"result": "unchanged", "client": client}
    client = client_services.client_archive(
        client=client, source=api_services.source_of(request.auth)
    )
    return {"result": "archived", "client": client}


# --- Contacts --------------------------------------------------------------------------


def _valid_contact(form) -> dict:
    """The contact form's cleaned data, or a 422 with its errors."""
    if not form.is_valid():
        errs = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
        raise ApiError(422, "invalid_contact", "Les données du contact ne sont pas valides.", errs)
    return form.cleaned_data


@router.get("/clients/{code}/contacts", response=responses({200: list[ContactOut]}))
def list_contacts(request, code: str):
    client = get_client(request, code)
    return list(client.contacts.all())


@router.post("/clients/{code}/contacts", response=responses({201: ContactOut}))
@decorate_view(idempotent)
def create_contact(request, code: str, payload: ContactIn):
    client = get_client(request, code)
    data = _valid_contact(ContactForm(payload.model_dump(), client=client))
    with api_services.attributed(client, api_services.source_of(request.auth)):
        contact = _service(client_services.contact_create, client=client, actor=None, data=data)
    return Status(201, contact)


@router.patch("/clients/{code}/contacts/{contact_id}", response=responses({200: ContactOut}))
def update_contact(request, code: str, contact_id: str, payload: ContactPatch):
    client = get_client(request, code)
    contact = get_contact(request, client, contact_id)
    current = {f: getattr(contact, f) for f in client_services.CONTACT_FIELDS}
    form = ContactForm(current | _given(payload), client=client, contact=contact)
    data = _valid_contact(form)
    with api_services.attributed(client, api_services.source_of(request.auth)):
        return _service(client_services.contact_update, contact=contact, actor=None, data=data)


@router.post(
    "/clients/{code}/contacts/{contact_id}/principal", response=responses({200: ContactOut})
)
@decorate_view(idempotent)
def set_principal(request, code: str, contact_id: str):
    client = get_client(request, code)
    contact = get_contact(request, client, contact_id)
    with api_services.attributed(client, api_services.source_of(request.auth)):
        return _service(client_services.contact_set_principal, contact=contact, actor=None)


def _service(function, **kwargs):
    try:
        return function(**kwargs)
    except ValidationError as exc:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        raise ApiError(422, "invalid_request", "La modification a été refusée.", details) from None


# --- Equipment, invitations, reform ----------------------------------------------------


def _equipment_out(equipment: Equipment) -> dict:
    return {
        "slot": equipment.slot,
        "solution": equipment.solution.slug,
        "name": equipment.solution.name,
        "plan": equipment.plan,
        "created_at": equipment.created_at,
    }


@router.get("/clients/{code}/equipment", response=responses({200: list[EquipmentOut]}))
def list_equipment(request, code: str):
    client = get_client(request, code)
    rows = Equipment.objects.for_firm(request.firm).filter(client=client).select_related("solution")
    return [_equipment_out(e) for e in rows]


@router.post(
    "/clients/{code}/equipment", response=responses({200: EquipmentResult, 201: EquipmentResult})
)
@decorate_view(idempotent)
def declare_equipment(request, code: str, payload: EquipmentIn):
    client = get_client(request, code)
    equipment, created = _service(
        api_services.equipment_declare,
        client=client,
        slot=payload.slot,
        slug=payload.solution,
        source=api_services.source_of(request.auth),
    )
    body = {"result": "created" if created else "unchanged", "equipment": _equipment_out(equipment)}
    return Status(201 if created else 200, body)


@router.get("/clients/{code}/invitations", response=responses({200: list[InvitationOut]}))
def list_invitations(request, code: str):
    client = get_client(request, code)
    return list(Invitation.objects.for_firm(request.firm).filter(client=client))


@router.get("/clients/{code}/reform", response=responses({200: ReformOut}))
def get_reform(request, code: str):
    return get_client(request, code)


@router.patch("/clients/{code}/reform", response=responses({200: ReformOut}))
def update_reform(request, code: str, payload: ReformIn):
    return _service(
        api_services.reform_update,
        client=get_client(request, code),
        data=_given(payload),
        source=api_services.source_of(request.auth),
    )


api.add_router("/", router)

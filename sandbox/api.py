"""The partner's HTTP API, as the console calls it (docs/partner-api.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox import webhooks
from sandbox.models import AccessLink, Account, Fault, PartnerInvitation

PLANS = {"easy", "start", "plus"}
BILLING_MODES = {"shine", "cabinet"}
ACCESS_LINK_TTL = timedelta(seconds=60)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _authorised(request) -> bool:
    expected = f"Bearer {settings.SANDBOX_API_KEY}"
    return hmac.compare_digest(request.headers.get("Authorization", ""), expected)


def _fault() -> HttpResponse | None:
    """Consume one configured fault, if any (test hook, see /_sandbox/faults)."""
    with transaction.atomic():
        fault = Fault.objects.select_for_update().filter(remaining__gt=0).first()
        if fault is None:
            return None
        fault.remaining -= 1
        fault.save()
    if fault.mode == "timeout":
        time.sleep(30)
        return _error(504, "timeout", "Délai dépassé.")
    if fault.mode == "malformed":
        return HttpResponse("{not json", content_type="application/json", status=200)
    return _error(500, "server_error", "Erreur interne du partenaire.")


def api_view(view, *, faults: bool = True):
    """Bearer auth, JSON body, and (for the contract's endpoints) the fault hook."""

    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        if not _authorised(request):
            return _error(401, "unauthorized", "Clé d'API invalide.")
        if faults and (faulty := _fault()) is not None:
            return faulty
        try:
            request.json = json.loads(request.body or b"{}")
        except ValueError:
            return _error(400, "invalid_json", "Le corps de la requête n'est pas du JSON valide.")
        if not isinstance(request.json, dict):
            return _error(400, "invalid_json", "Le corps de la requête doit être un objet JSON.")
        return view(request, *args, **kwargs)

    return wrapper


def _invitation_json(invitation: PartnerInvitation) -> dict:
    return {
        "id": str(invitation.id),
        "external_id": invitation.external_id,
        "status": invitation.status,
        "onboarding_url": f"{settings.SANDBOX_BASE_URL}/onboarding/{invitation.onboarding_token}/",
    }


def _clean_invitation(body: dict) -> dict:
    company, contact, firm = body.get("company"), body.get("contact"), body.get("firm")
    if not all(isinstance(part, dict) for part in (company, contact, firm)):
        raise ValidationError("company, contact et firm sont obligatoires.")
    email = str(contact.get("email", "")).strip().lower()
    validate_email(email)
    siret = str(company.get("siret", ""))
    if len(siret) != 14 or not siret.isdigit():
        raise ValidationError("Le SIRET doit contenir 14 chiffres.")
    if body.get("plan") not in PLANS or body.get("billing_mode") not in BILLING_MODES:
        raise ValidationError("Plan ou mode de facturation inconnu.")
    webhook_secret = body.get("webhook_secret", "")
    if not isinstance(webhook_secret, str) or len(webhook_secret) > 200:
        raise ValidationError("webhook_secret : une chaîne de 200 caractères au plus.")
    return {
        "external_id": str(body.get("external_id", ""))[:100],
        "firm_id": str(firm.get("id", ""))[:100],
        "firm_name": str(firm.get("name", ""))[:200],
        "company_name": str(company.get("name", ""))[:200],
        "siret": siret,
        "first_name": str(contact.get("first_name", ""))[:100],
        "last_name": str(contact.get("last_name", ""))[:100],
        "email": email,
        "plan": body["plan"],
        "billing_mode": body["billing_mode"],
        "webhook_secret": webhook_secret,
    }


@require_POST
@api_view
def invitations(request):
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 200:
        return _error(400, "idempotency_key_required", "L'en-tête Idempotency-Key est obligatoire.")
    digest = hashlib.sha256(request.body).hexdigest()
    existing = PartnerInvitation.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.request_hash != digest:
            return _error(
                409,
                "idempotency_conflict",
                "Cette clé d'idempotence a déjà servi pour une autre requête.",
            )
        return JsonResponse(_invitation_json(existing), status=200)
    try:
        data = _clean_invitation(request.json)
    except ValidationError as exc:
        return _error(422, "invalid_request", exc.messages[0])
    if Account.objects.filter(email__iexact=data["email"]).exists():
        return _error(409, "email_taken", "Cette adresse e-mail a déjà un compte Shine.")
    try:
        with transaction.atomic():
            invitation = PartnerInvitation.objects.create(
                idempotency_key=key, request_hash=digest, **data
            )
    except IntegrityError:  # the same key, concurrently
        existing = PartnerInvitation.objects.get(idempotency_key=key)
        return JsonResponse(_invitation_json(existing), status=200)
    return JsonResponse(_invitation_json(invitation), status=201)


@require_POST
@api_view
def invitation_cancel(request, invitation_id):
    invitation = PartnerInvitation.objects.filter(id=invitation_id).first()
    if invitation is None:
        return _error(404, "not_found", "Invitation inconnue.")
    if invitation.status == PartnerInvitation.PENDING:
        invitation.status = PartnerInvitation.CANCELLED
        invitation.save(update_fields=["status"])
    return JsonResponse(_invitation_json(invitation))


@require_POST
@api_view
def access_links(request):
    body = request.json
    account = (
        Account.objects.filter(id=body.get("account_id"), status=Account.ACTIVE).first()
        if _is_uuid(body.get("account_id"))
        else None
    )
    if account is None:
        return _error(404, "not_found", "Compte inconnu ou fermé.")
    link = AccessLink.objects.create(
        account=account,
        collaborator_email=str(body.get("collaborator_email", ""))[:254],
        collaborator_name=str(body.get("collaborator_name", ""))[:200],
        firm_name=str(body.get("firm_name", ""))[:200],
        expires_at=timezone.now() + ACCESS_LINK_TTL,
    )
    return JsonResponse(
        {
            "url": f"{settings.SANDBOX_BASE_URL}/acces/{link.token}/",
            "expires_at": link.expires_at.isoformat(),
        },
        status=201,
    )


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- Test hooks (same bearer key): faults, state, and events the real partner sends on its own.
# They never fail on purpose themselves.


def hook_view(view):
    return api_view(view, faults=False)


@require_POST
@hook_view
def sandbox_faults(request):
    mode = request.json.get("mode")
    if mode not in {"500", "timeout", "malformed", "none"}:
        return _error(422, "invalid_request", "mode: 500, timeout, malformed ou none.")
    Fault.objects.all().delete()
    if mode != "none":
        Fault.objects.create(mode=mode, remaining=int(request.json.get("count", 1)))
    return JsonResponse({"mode": mode})


@require_POST
@hook_view
def sandbox_reset(request):
    """Forget everything (tests start from an empty partner)."""
    with transaction.atomic():
        for model in (AccessLink, Account, PartnerInvitation, webhooks.WebhookDelivery, Fault):
            model.objects.all().delete()
    return JsonResponse({"reset": True})


@require_GET
@hook_view
def sandbox_state(request):
    return JsonResponse(
        {
            "invitations": PartnerInvitation.objects.count(),
            "accounts": Account.objects.count(),
            "accounts_by_email": list(Account.objects.values_list("email", flat=True)),
            "webhooks_pending": webhooks.WebhookDelivery.objects.filter(
                delivered_at__isnull=True
            ).count(),
            "faults_pending": sum(Fault.objects.values_list("remaining", flat=True)),
        }
    )


@require_POST
@hook_view
def sandbox_expire(request, invitation_id):
    invitation = PartnerInvitation.objects.filter(
        id=invitation_id, status=PartnerInvitation.PENDING
    ).first()
    if invitation is None:
        return _error(404, "not_found", "Invitation inconnue ou déjà traitée.")
    with transaction.atomic():
        invitation.status = PartnerInvitation.EXPIRED
        invitation.save(update_fields=["status"])
        webhooks.emit(
            "invitation.expired",
            invitation,
            {"invitation_id": str(invitation.id), "external_id": invitation.external_id},
        )
    return JsonResponse(_invitation_json(invitation))


@require_POST
@hook_view
def sandbox_close(request, account_id):
    account = Account.objects.filter(id=account_id, status=Account.ACTIVE).first()
    if account is None:
        return _error(404, "not_found", "Compte inconnu ou fermé.")
    with transaction.atomic():
        account.status = Account.CLOSED
        account.save(update_fields=["status"])
        webhooks.emit(
            "account.closed",
            account.invitation,
            {
                "invitation_id": str(account.invitation_id),
                "external_id": account.invitation.external_id,
                "account_id": str(account.id),
            },
        )
    return JsonResponse({"id": str(account.id), "status": account.status})

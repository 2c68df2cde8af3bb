"""`Idempotency-Key` on POST: the same key and body replay the stored response."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from vigie.api.auth import key_from_header, throttle
from vigie.api.errors import ApiError, error_response, payload_too_large
from vigie.api.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Forget the stored responses older than IDEMPOTENCY_RETENTION_DAYS (the sweeper
    calls this): a retry comes within minutes, the table would grow for ever."""
    now = now or timezone.now()
    limit = now - timedelta(days=settings.IDEMPOTENCY_RETENTION_DAYS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=limit).delete()
    return deleted


def idempotent(run):
    """Wraps a ninja operation's `run` (before authentication: the key is read here)."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        idem_key = request.headers.get("Idempotency-Key")
        if idem_key is None or request.method != "POST":
            return run(request, *args, **kwargs)
        api_key = key_from_header(request)
        if api_key is None or api_key.is_revoked:
            return run(request, *args, **kwargs)  # authentication answers
        try:
            # Counted here, as the operation's authentication would (it will not count the
            # request twice): a replay or a refusal below is a request like any other.
            throttle(request, api_key)
            body = request.body
        except ApiError as exc:
            return error_response(exc)
        except RequestDataTooBig:  # Django's HTML 400 otherwise, outside the API's handlers
            return error_response(payload_too_large())
        if not idem_key.strip() or len(idem_key) > MAX_KEY_LENGTH:
            message = f"L'en-tête Idempotency-Key doit faire de 1 à {MAX_KEY_LENGTH} caractères."
            return error_response(ApiError(422, "invalid_idempotency_key", message))
        digest = hashlib.sha256(
            request.method.encode() + b" " + request.path.encode() + b"\n" + body
        ).hexdigest()
        stored = IdempotencyRecord.objects.filter(
            firm_id=api_key.firm_id, api_key=api_key, key=idem_key
        ).first()
        if stored is not None:
            if stored.request_hash != digest:
                message = (
                    "Cette clé d'idempotence a déjà servi pour une autre requête : "
                    "utilisez une nouvelle clé."
                )
                return error_response(ApiError(409, "idempotency_key_reused", message))
            response = HttpResponse(
                stored.body, status=stored.status_code, content_type="application/json"
            )
            response["Idempotent-Replayed"] = "true"
            return response
        response = run(request, *args, **kwargs)
        if response.status_code < 500 and response.status_code != 429:
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        firm_id=api_key.firm_id,
                        api_key=api_key,
                        key=idem_key,
                        request_hash=digest,
                        status_code=response.status_code,
                        body=response.content.decode(),
                    )
            except IntegrityError:
                pass  # a concurrent twin stored it first; both did the same work
        return response

    return wrapper

"""Every API error is JSON: {"code": "<stable_code>", "message": "<French>", "details": ...}."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError


class ErrorOut(Schema):
    code: str
    message: str
    details: Any = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def payload_too_large() -> ApiError:
    return ApiError(413, "payload_too_large", "Le corps de la requête est trop volumineux.")


def error_response(exc: ApiError) -> HttpResponse:
    """Every error's answer: the handlers' below, and code that runs before an operation
    (idempotency)."""
    body = {"code": exc.code, "message": exc.message, "details": exc.details}
    response = HttpResponse(json.dumps(body), status=exc.status, content_type="application/json")
    if exc.status == 429 and isinstance(exc.details, dict):
        response["Retry-After"] = str(exc.details.get("retry_after", 60))
    return response


# Declared on every operation, so the OpenAPI schema covers every answer.
ERROR_RESPONSES = {status: ErrorOut for status in (400, 401, 403, 404, 409, 413, 422, 429)}


def install(api) -> None:
    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return error_response(exc)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api_error(
            request,
            ApiError(
                401,
                "unauthenticated",
                "Authentification requise : envoyez l'en-tête « Authorization: Bearer <clé d'API> ».",
            ),
        )

    @api.exception_handler(ValidationError)
    def invalid(request, exc: ValidationError):
        details = [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors
        ]
        message = "La requête ne respecte pas le schéma : vérifiez les champs indiqués."
        return api_error(request, ApiError(422, "invalid_request", message, details))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api_error(request, ApiError(404, "not_found", str(exc) or "Ressource introuvable."))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        return api_error(request, payload_too_large())

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if exc.status_code == 400:
            message = "Le corps de la requête n'est pas un JSON valide."
            return api_error(request, ApiError(400, "malformed_json", message))
        return api_error(request, ApiError(exc.status_code, "http_error", str(exc)))

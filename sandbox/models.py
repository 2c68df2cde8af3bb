from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models.functions import Lower


def _token() -> str:
    return secrets.token_urlsafe(24)


class PartnerInvitation(models.Model):
    """An invitation received from a console (POST /api/v1/invitations)."""

    PENDING, ACCEPTED, CANCELLED, EXPIRED = "pending", "accepted", "cancelled", "expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    idempotency_key = models.CharField(max_length=200, unique=True)
    request_hash = models.CharField(max_length=64)
    external_id = models.CharField(max_length=100)
    firm_id = models.CharField(max_length=100)
    firm_name = models.CharField(max_length=200)
    company_name = models.CharField(max_length=200)
    siret = models.CharField(max_length=14)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254)
    plan = models.CharField(max_length=10)
    billing_mode = models.CharField(max_length=10)
    # Sent by the console with the invitation: the secret that signs its webhooks.
    webhook_secret = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, default=PENDING)
    onboarding_token = models.CharField(max_length=64, unique=True, default=_token)
    created_at = models.DateTimeField(auto_now_add=True)


class Account(models.Model):
    """A Shine account. One per email address, ever."""

    ACTIVE, CLOSED = "active", "closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    invitation = models.OneToOneField(PartnerInvitation, on_delete=models.PROTECT)
    email = models.EmailField(max_length=254)
    company_name = models.CharField(max_length=200)
    siret = models.CharField(max_length=14)
    plan = models.CharField(max_length=10)
    billing_mode = models.CharField(max_length=10)
    firm_name = models.CharField(max_length=200)
    password = models.CharField(max_length=200)
    status = models.CharField(max_length=10, default=ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="sandbox_one_account_per_email")
        ]


class WebhookDelivery(models.Model):
    """An event to deliver to the console, retried until it is acknowledged."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=40)
    body = models.TextField()
    # The invitation's webhook secret; empty: the partner-wide one (settings).
    secret = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class AccessLink(models.Model):
    """A short-lived, single-use link for a firm's collaborator to enter an account."""

    token = models.CharField(max_length=64, unique=True, default=_token)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    collaborator_email = models.EmailField(max_length=254)
    collaborator_name = models.CharField(max_length=200, blank=True)
    firm_name = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class Fault(models.Model):
    """Test hook: make the API misbehave for the next `remaining` calls."""

    mode = models.CharField(max_length=20)  # "500", "timeout", "malformed"
    remaining = models.PositiveIntegerField(default=1)


# --- Public registers (sandbox/registers.py): the company register and the e-invoicing
# directory, answering with the real services' shapes.


class RegisterCompany(models.Model):
    """A legal unit as API Recherche d'entreprises returns it (without its establishments)."""

    siren = models.CharField(max_length=9, primary_key=True)
    data = models.JSONField()


class RegisterEstablishment(models.Model):
    """An establishment (SIRET) of a legal unit, in the same API's shape."""

    siret = models.CharField(max_length=14, primary_key=True)
    siren = models.CharField(max_length=9, db_index=True)
    data = models.JSONField()


class DirectoryEntry(models.Model):
    """A line of the e-invoicing directory (AFNOR XP Z12-013 directory-line shape)."""

    addressing_identifier = models.CharField(max_length=120, primary_key=True)
    siren = models.CharField(max_length=9, db_index=True)
    siret = models.CharField(max_length=14, blank=True)
    data = models.JSONField()


class RegisterFault(models.Model):
    """Test hook: make one register misbehave for its next `remaining` calls."""

    service = models.CharField(max_length=10)  # "sirene", "annuaire"
    mode = models.CharField(max_length=20)  # "500", "timeout", "malformed", "429"
    remaining = models.PositiveIntegerField(default=1)
    retry_after = models.PositiveIntegerField(default=1)


class RegisterCall(models.Model):
    """Every call a register received, for the tests' counts (rate, repeats)."""

    service = models.CharField(max_length=10)
    query = models.CharField(max_length=40)
    status = models.PositiveSmallIntegerField()
    at = models.FloatField()

"""The e-invoicing reform: mandate documents and the firm's information email.

The client's own reform state (sensitised, mandate status, PA registration) lives on
`clients.Client`; the rows here keep what that state needs around it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from vigie.firms.models import FirmQuerySet
from vigie.lib.ids import uuid7


def _random_name(prefix: str) -> str:
    # Never the uploaded name: a random one, grouped by kind.
    return f"reform/mandates/{prefix}-{uuid.uuid4().hex}.pdf"


def generated_path(instance, filename: str) -> str:
    return _random_name("mandat")


def signed_path(instance, filename: str) -> str:
    return _random_name("signe")


class MandateState(models.TextChoices):
    DRAFT = "brouillon", "Brouillon de mandat"  # generated, read by the firm, not sent yet
    SENT = "envoye", "Mandat envoyé"
    OPENED = "ouvert", "Mandat ouvert"  # the client followed the e-mail's link
    LOCKED = "bloque", "Lien de signature bloqué"  # too many wrong codes
    SIGNED = "signe", "Mandat signé"
    REVOKED = "revoque", "Mandat révoqué"
    EXPIRED = "expire", "Mandat expiré"  # the link's validity passed without signature


# Still waiting for the client's signature (online, or a scanned copy to upload).
AWAITING = (MandateState.SENT, MandateState.OPENED, MandateState.LOCKED)
# Reminded automatically: still signable online (a locked link stops the reminders).
REMINDABLE = (MandateState.SENT, MandateState.OPENED)


class MandateQuerySet(FirmQuerySet):
    def issued(self):
        """The mandates sent to the client (every state but the firm's draft)."""
        return self.exclude(state=MandateState.DRAFT)


class Mandate(models.Model):
    """One mandate a client gave (or was asked to give) to its firm.

    The generated PDF is what was sent for signature; the signed copy is either the file
    the collaborator uploaded or, signed online by the client (vigie.reform.signing), the
    generated PDF with its evidence page, sealed. The client's `mandate_status` mirrors
    its latest mandate (*Mandat envoyé* while it is opened or its link locked).
    """

    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="mandates")
    state = models.CharField(max_length=10, choices=MandateState.choices, default=MandateState.SENT)
    # What the document says, frozen at generation time.
    firm_name = models.CharField(max_length=200)
    client_name = models.CharField(max_length=200)
    siren = models.CharField(max_length=9)
    representative = models.CharField(max_length=200)
    representative_email = models.EmailField(max_length=254)
    starts_on = models.DateField()
    document = models.FileField(upload_to=generated_path, max_length=200)
    signed_document = models.FileField(upload_to=signed_path, max_length=200, blank=True)
    signed_size = models.PositiveIntegerField(default=0)
    email_id = models.CharField(max_length=64, blank=True)
    # The SHA-256 of `document` when it was sent: the evidence names it, and the sealing
    # refuses a stored file that no longer matches.
    document_sha256 = models.CharField(max_length=64, blank=True)

    # Signing online: the link followed, the one-time code (only its HMAC is kept), the
    # link locked after too many wrong codes, what the evidence page says.
    opened_at = models.DateTimeField(null=True, blank=True)
    code_hash = models.CharField(max_length=64, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    code_failures = models.PositiveSmallIntegerField(default=0)
    code_verified_at = models.DateTimeField(null=True, blank=True)
    code_tries = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    signed_online = models.BooleanField(default=False)
    evidence = models.JSONField(default=dict, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.CharField("motif", max_length=300, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    # The automatic reminders: the highest number sent (vigie.reform.lifecycle claims the
    # next one with a conditional UPDATE of this counter).
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    objects = MandateQuerySet.as_manager()

    class Meta:
        verbose_name = "mandat"
        ordering = ["-created_at", "-id"]
        constraints = [
            # A client has at most one draft: preparing another replaces it.
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(state="brouillon"),
                name="mandate_one_draft_per_client",
            ),
        ]
        indexes = [
            models.Index(fields=["firm", "client", "-created_at"], name="mandate_firm_client"),
            # The sweep's reminders and expiry read only the mandates awaiting signature.
            models.Index(
                fields=["sent_at"],
                name="mandate_awaiting_sent",
                condition=models.Q(state__in=["envoye", "ouvert", "bloque"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Mandat {self.client_name} ({self.get_state_display()})"

    @property
    def is_signed(self) -> bool:
        return self.state == MandateState.SIGNED and bool(self.signed_document)

    @property
    def is_awaiting(self) -> bool:
        return self.state in AWAITING

    def revoke(self, *, by, reason: str = "") -> None:
        self.state = MandateState.REVOKED
        self.revoked_at, self.revoked_by, self.revoke_reason = timezone.now(), by, reason
        self.save(update_fields=["state", "revoked_at", "revoked_by", "revoke_reason"])


class MandateReminder(models.Model):
    """One automatic reminder of a mandate awaiting signature: (mandate, number) is its
    idempotency key, so a reminder is queued once whatever the sweeps do."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    mandate = models.ForeignKey(Mandate, on_delete=models.CASCADE, related_name="reminders")
    number = models.PositiveSmallIntegerField()
    email_id = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = "relance de mandat"
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["mandate", "number"], name="mandate_reminder_once")
        ]

    def __str__(self) -> str:
        return f"Relance n° {self.number} du {self.mandate}"


class ReformEmailTemplate(models.Model):
    """The firm's own wording of the reform information email (one per firm)."""

    firm = models.OneToOneField("firms.Firm", on_delete=models.CASCADE, related_name="+")
    subject = models.CharField("objet", max_length=200)
    body = models.TextField("message")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "modèle d'e-mail réforme"

    def __str__(self) -> str:
        return self.subject

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from vigie.clients import rowversion
from vigie.lib.ids import uuid7


class Plan(models.TextChoices):
    EASY = "easy", "Easy"
    START = "start", "Start"
    PLUS = "plus", "Plus"


class BillingMode(models.TextChoices):
    SHINE = "shine", "Shine"
    CABINET = "cabinet", "Cabinet"


class Status(models.TextChoices):
    DRAFT = "brouillon", "Brouillon"
    PENDING = "en_attente", "Envoi en attente"
    SENT = "envoyee", "Envoyée"
    ACTIVATED = "activee", "Activé"
    FAILED = "echec", "Échec d'envoi"
    CANCELLED = "annulee", "Annulée"
    EXPIRED = "expiree", "Expirée"


# An email holds at most one Shine account, ever: these states keep it taken.
EMAIL_HOLDING_STATUSES = [Status.PENDING, Status.SENT, Status.ACTIVATED]


class SendMethod(models.TextChoices):
    # How it went, as the status line says it: « Envoyer par Vigie » or « J'envoie ».
    VIGIE = "vigie", "Envoyée par Vigie"
    MAILTO = "mailto", "Envoyée par le cabinet"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def for_firm(self, firm) -> InvitationQuerySet:
        return self.filter(firm=firm)


class Invitation(models.Model):
    """An invitation to open a Shine account: a durable row with a lifecycle.

    `client` is empty for a firm's own test account.
    """

    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    contact = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(max_length=254)
    plan = models.CharField(max_length=10, choices=Plan.choices)
    billing_mode = models.CharField(max_length=10, choices=BillingMode.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    send_method = models.CharField(max_length=10, choices=SendMethod.choices, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # The link its e-mails carry instead of its own, one that leads to it (a campaign's
    # personal link); empty: its own (invitation_link). Every later e-mail (a resend, a
    # reminder) carries the same one.
    link = models.URLField(max_length=500, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The email in the outbox when sent « par Vigie » (its status drives ours).
    outbound = models.ForeignKey(
        "mail.OutboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bulk = models.ForeignKey(
        "invitations.BulkInvitation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # Automatic reminders already sent (0, 1 or 2): each step at most once.
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(status__in=EMAIL_HOLDING_STATUSES),
                name="invitation_one_live_per_email",
            ),
        ]
        indexes = [
            models.Index(fields=["firm", "status"], name="invitation_firm_status"),
            models.Index(fields=["status", "sent_at"], name="invitation_status_sent"),
        ]
        triggers = rowversion.touch_triggers()

    def __str__(self) -> str:
        return f"{self.email} ({self.get_status_display()})"

    @property
    def features(self) -> list[str]:
        return PLAN_FEATURES.get(self.plan, [])

    @property
    def is_open(self) -> bool:
        """Still waiting for the client (the token works)."""
        return self.status in (Status.DRAFT, Status.PENDING, Status.SENT, Status.FAILED)

    @property
    def awaits_account(self) -> bool:
        """Out with the client (sent, or its email on the way) and not over: only then is
        the partner's side of it wanted. vigie.partners reads it through its link."""
        return self.status in (Status.PENDING, Status.SENT)


# --- What the services below need: the email sent, templates, bulk runs ---------------

PLAN_FEATURES = {
    Plan.EASY: [
        "1 utilisateur",
        "Jusqu'à 10 factures par mois",
        "Devis et factures conformes à la réforme",
        "Application mobile",
    ],
    Plan.START: ["1 utilisateur", "Factures illimitées", "Facturation récurrente"],
    Plan.PLUS: [
        "Jusqu'à 5 utilisateurs",
        "Factures illimitées",
        "Facturation récurrente",
        "Relances automatiques des impayés",
        "Collecte des justificatifs d'achat",
    ],
}

BILLING_MODE_NOTE = (
    "Le mode de facturation « Shine » signifie que Shine refacture le client TPE ; "
    "le mode de facturation « Cabinet », signifie que le cabinet se charge de refacturer "
    "directement le client TPE."
)


class InvitationTemplate(models.Model):
    """A firm's own wording of the invitation email for one plan (else the default)."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    plan = models.CharField(max_length=10, choices=Plan.choices)
    subject = models.CharField("objet", max_length=200)
    body = models.TextField("message")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "modèle d'invitation"
        constraints = [
            models.UniqueConstraint(fields=["firm", "plan"], name="invitation_template_per_plan")
        ]

    def __str__(self) -> str:
        return f"{self.firm_id} {self.plan}"


class BulkStatus(models.TextChoices):
    RUNNING = "en_cours", "En cours"
    DONE = "terminee", "Terminée"


class BulkInvitation(models.Model):
    """One « Activer » over a selection: the invitations are made in the background."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plan = models.CharField(max_length=10, choices=Plan.choices)
    billing_mode = models.CharField(max_length=10, choices=BillingMode.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    client_ids = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # {client code: French reason} for the clients skipped at the last moment.
    skipped_reasons = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=BulkStatus.choices, default=BulkStatus.RUNNING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "invitation groupée"

    def __str__(self) -> str:
        return f"{self.done}/{self.total}"

    @property
    def processed(self) -> int:
        return self.done + self.skipped

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 100

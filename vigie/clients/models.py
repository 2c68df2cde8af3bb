from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from vigie.accounts.models import User
from vigie.clients import counts, directory, rowversion, searchdoc
from vigie.firms.models import Firm, FirmQuerySet, Membership
from vigie.lib.ids import uuid7
from vigie.lib.text import fold
from vigie.lib.validators import format_phone, format_siret, is_valid_siret

CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    "Le code client ne peut contenir que des lettres, des chiffres, « . », « _ » et « - ».",
)


class LegalForm(models.TextChoices):
    AUCUNE = "AUCUNE", "AUCUNE"
    EI = "EI", "EI"
    EIRL = "EIRL", "EIRL"
    MICRO = "MICRO", "Micro-entreprise"
    EURL = "EURL", "EURL"
    SARL = "SARL", "SARL"
    SASU = "SASU", "SASU"
    SAS = "SAS", "SAS"
    SA = "SA", "SA"
    SNC = "SNC", "SNC"
    SCI = "SCI", "SCI"
    SCM = "SCM", "SCM"
    SCP = "SCP", "SCP"
    SELARL = "SELARL", "SELARL"
    EARL = "EARL", "EARL"
    GAEC = "GAEC", "GAEC"
    ASSOCIATION = "ASSOCIATION", "Association"


class Regime(models.TextChoices):
    NONE = "", "—"
    REEL_NORMAL = "reel_normal", "Réel normal"
    REEL_SIMPLIFIE = "reel_simplifie", "Réel simplifié"
    MICRO = "micro", "Micro-entreprise"
    FRANCHISE = "franchise", "Franchise en base de TVA"


class MandateStatus(models.TextChoices):
    NONE = "", "Aucun"
    SENT = "envoye", "Mandat envoyé"
    SIGNED = "signe", "Mandat signé"
    REVOKED = "revoque", "Mandat révoqué"
    EXPIRED = "expire", "Mandat expiré"  # its signing link's validity passed unsigned


class PaStatus(models.TextChoices):
    ABSENT = "absent", "Pas dans l'annuaire"
    INVITED = "invite", "Invitation envoyée"
    REGISTERED = "inscrit", "Inscrit"


class ShineStatus(models.TextChoices):
    """The current state of the client's Shine equipment (its latest invitation)."""

    NONE = "", "Sans Shine"
    DRAFT = "brouillon", "Brouillon"
    PENDING = "en_attente", "Envoi en attente"
    SENT = "envoyee", "Invitation envoyée"
    ACTIVATED = "active", "Activé"
    FAILED = "echec", "Échec d'envoi"
    EXPIRED = "expiree", "Expirée"
    CANCELLED = "annulee", "Annulée"


class ClientQuerySet(FirmQuerySet):
    def active(self) -> ClientQuerySet:
        return self.filter(archived_at__isnull=True)

    def locked(self, client: Client) -> Client:
        """`client` read again under a row lock: the writes to one client that must not
        interleave (its contacts and principal, its reform state) run one at a time."""
        return self.select_for_update().get(pk=client.pk)


class Client(models.Model):
    """A small business (TPE) of a firm's portfolio."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="clients")
    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    code = models.CharField("code client", max_length=20, validators=[CODE_VALIDATOR])
    name = models.CharField("raison sociale", max_length=200)
    legal_form = models.CharField(
        "forme juridique", max_length=20, choices=LegalForm.choices, default=LegalForm.AUCUNE
    )
    siret = models.CharField("SIRET", max_length=14, blank=True)
    ape_code = models.CharField("code APE", max_length=6, blank=True)
    regime = models.CharField("régime", max_length=20, choices=Regime.choices, blank=True)
    activity = models.CharField("activité", max_length=200, blank=True)
    # The head office's address (« Remplir depuis le registre » fills it from the SIRET).
    address = models.CharField("adresse", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("ville", max_length=100, blank=True)
    notes = models.TextField("notes", blank=True)

    # Collecte: how the client's documents reach the firm.
    collect_email = models.CharField("email de collecte", max_length=254, blank=True)
    reception_flux = models.CharField("réception flux", max_length=100, blank=True)
    flux_achat = models.CharField("flux achat", max_length=100, blank=True)
    flux_vente = models.CharField("flux vente", max_length=100, blank=True)
    flux_banque = models.CharField("flux banque", max_length=100, blank=True)
    paie = models.CharField("paie", max_length=100, blank=True)
    docs_to_file = models.PositiveIntegerField("doc. à classer", default=0)
    # Optional: what the reform's per-invoice fine would cost the client (vigie/reform/penalties.py).
    invoices_per_month = models.PositiveIntegerField(
        "factures émises par mois",
        null=True,
        blank=True,
        validators=[MaxValueValidator(1_000_000)],
        help_text="Sert à estimer les pénalités encourues au titre de la réforme.",
    )

    # E-invoicing reform.
    sensitised = models.BooleanField("sensibilisé à la réforme", default=False)
    sensitised_at = models.DateTimeField(null=True, blank=True)
    sensitised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mandate_status = models.CharField(
        "mandat",
        max_length=10,
        choices=MandateStatus.choices,
        blank=True,
        default=MandateStatus.NONE,
    )
    mandate_sent_at = models.DateTimeField(null=True, blank=True)
    mandate_signed_at = models.DateTimeField(null=True, blank=True)
    pa_status = models.CharField(
        "inscription PA", max_length=10, choices=PaStatus.choices, default=PaStatus.ABSENT
    )
    pa_name = models.CharField("plateforme agréée", max_length=100, blank=True)
    pa_registered_at = models.DateField(null=True, blank=True)

    shine_status = models.CharField(
        "statut Shine",
        max_length=12,
        choices=ShineStatus.choices,
        blank=True,
        default=ShineStatus.NONE,
    )

    # Sort and search keys (accents and case folded), kept by `refresh_keys()`.
    sort_name = models.CharField(max_length=200, editable=False, default="")
    search_text = models.CharField(max_length=260, editable=False, default="")

    assigned = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ClientAssignment", related_name="assigned_clients"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        verbose_name = "client"
        constraints = [
            models.UniqueConstraint(fields=["firm", "code"], name="client_code_unique_per_firm"),
            models.CheckConstraint(
                condition=Q(siret="") | Q(siret__regex=r"^[0-9]{14}$"), name="client_siret_format"
            ),
            models.CheckConstraint(
                condition=Q(legal_form__in=LegalForm.values), name="client_legal_form_known"
            ),
            models.CheckConstraint(
                condition=Q(postal_code="") | Q(postal_code__regex=r"^[0-9]{5}$"),
                name="client_postal_code_format",
            ),
            models.UniqueConstraint(
                fields=["collect_email"],
                condition=~Q(collect_email=""),
                name="client_collect_email_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["firm", "sort_name", "id"], name="client_firm_sort"),
            models.Index(fields=["firm", "updated_at"], name="client_firm_updated"),
        ]
        triggers = [
            *counts.client_triggers(),
            *rowversion.client_triggers(),
            *searchdoc.client_triggers(),
        ]

    def __str__(self) -> str:
        return self.name

    def refresh_keys(self) -> None:
        self.sort_name = fold(self.name)[:200]
        self.search_text = fold(f"{self.name} {self.code} {self.siret}")[:260]

    def save(self, *args, **kwargs) -> None:
        self.refresh_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "sort_name", "search_text", "updated_at"}
        super().save(*args, **kwargs)

    @property
    def siret_display(self) -> str:
        return format_siret(self.siret)

    @property
    def siren(self) -> str:
        return self.siret[:9]

    @property
    def has_valid_siret(self) -> bool:
        return is_valid_siret(self.siret)


class ClientCount(models.Model):
    """How many active (not archived) clients a firm has, kept by database triggers
    (`vigie.clients.counts`): the unfiltered portfolio reads this row instead of
    counting 100,000 index entries on every page."""

    firm = models.OneToOneField(
        "firms.Firm", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    active = models.IntegerField(default=0)

    class Meta:
        verbose_name = "client count"

    def __str__(self) -> str:
        return f"{self.firm_id}: {self.active}"


# -- The read model: tables kept by triggers -------------------------------------------
# Written only by triggers, declared with django-pgtrigger on the tables they watch
# (vigie.clients.rowversion, directory, searchdoc); the ORM reads them. No foreign-key
# constraint: the triggers delete a row with its source row in the same statement, and
# nothing here cascades.


class _ClientReadRow(models.Model):
    """One row per client, keyed by it."""

    client = models.OneToOneField(
        Client,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    firm = models.ForeignKey(
        "firms.Firm",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        abstract = True


class RowVersion(_ClientReadRow):
    """A client's row version, new whenever its portfolio row changes
    (vigie.clients.rowversion; tests/test_read_model.py checks the triggers)."""

    version = models.BigIntegerField()

    class Meta:
        db_table = "clients_rowversion"

    def __str__(self) -> str:
        return f"{self.client_id}: {self.version}"


class DirectoryVersion(models.Model):
    """A firm's directory version, new whenever its collaborators or the catalogue of
    solutions change (vigie.clients.directory)."""

    firm = models.OneToOneField(
        "firms.Firm",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    version = models.BigIntegerField()

    class Meta:
        db_table = "clients_directoryversion"

    def __str__(self) -> str:
        return f"{self.firm_id}: {self.version}"


class SearchDocument(_ClientReadRow):
    """A client's search text and its contacts', searched through an index of the firm's
    trigrams, `<firm_id>:<trigram>` (vigie.clients.searchdoc; the index is in migration
    clients.0016: the query writes that exact expression)."""

    doc = models.TextField()

    class Meta:
        db_table = "clients_searchdoc"

    def __str__(self) -> str:
        return f"{self.client_id}: {self.doc[:40]}"


class Access(models.TextChoices):
    ADMIN = "admin", "Admin"
    USER = "utilisateur", "Utilisateur"


class Contact(models.Model):
    """A person of a client. At most one principal contact per client."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    public_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    last_name = models.CharField("nom", max_length=100)
    first_name = models.CharField("prénom", max_length=100, blank=True)
    email = models.EmailField("e-mail", max_length=254, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    access = models.CharField("accès", max_length=12, choices=Access.choices, default=Access.USER)
    is_principal = models.BooleanField("contact principal", default=False)
    search_text = models.CharField(max_length=460, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        verbose_name = "contact"
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=Q(is_principal=True), name="contact_one_principal"
            ),
            models.UniqueConstraint(
                "client",
                Lower("email"),
                condition=~Q(email=""),
                name="contact_email_unique_per_client",
            ),
        ]
        indexes = [models.Index(fields=["firm", "client"], name="contact_firm_client")]
        triggers = [*rowversion.touch_triggers(), *searchdoc.contact_triggers()]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    def refresh_keys(self) -> None:
        self.search_text = fold(f"{self.first_name} {self.last_name} {self.email}")[:460]

    def save(self, *args, **kwargs) -> None:
        self.email = (self.email or "").strip().lower()
        self.refresh_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "email", "search_text", "updated_at"}
        super().save(*args, **kwargs)


class ClientAssignment(models.Model):
    """A collaborator assigned to a client (avatars in CONTACT and CABINET)."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "user"], name="assignment_unique"),
        ]
        indexes = [models.Index(fields=["firm", "user"], name="assignment_firm_user")]
        triggers = rowversion.touch_triggers()

    def __str__(self) -> str:
        return f"{self.user_id} → {self.client_id}"


class ClientEvent(models.Model):
    """One entry of a client's history: who did what, when, before → after."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=40)
    summary = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["client", "-at"], name="event_client_at"),
            # The Réforme dashboard's weekly chart: a firm's events of some kinds since a
            # date, counted from the index alone (100,000 clients: 578 → 249 ms, SQLite).
            models.Index(fields=["firm", "kind", "at"], name="event_firm_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.summary}"


# The directory versions' triggers on the tables of the layers below (firms, accounts):
# declared here, where the read model lives, as those apps know nothing of clients.
# pgtrigger adds them to the models' `Meta.triggers`, so their own apps' migrations
# install them.
pgtrigger.register(*directory.firm_triggers())(Firm)
pgtrigger.register(*directory.membership_triggers())(Membership)
pgtrigger.register(*directory.user_triggers())(User)

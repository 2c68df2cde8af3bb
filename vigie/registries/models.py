"""What the public registers said about each client, and the runs that ask them.

The UI reads `RegisterCheck` only (the latest answer per client and register, with its
date and source): it never waits on a register. A run (`CheckRun`) holds one
`CheckItem` per client and register, the durable state of the calls — status, attempts,
next attempt — so that a worker killed in the middle of 5,000 clients is taken over
without asking again for the ones it finished.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from vigie.clients import rowversion
from vigie.firms.models import FirmQuerySet
from vigie.lib import crypto


class Register(models.TextChoices):
    SIRENE = "sirene", "Registre des entreprises"
    ANNUAIRE = "annuaire", "Annuaire de facturation électronique"


class CheckStatus(models.TextChoices):
    UP_TO_DATE = "a_jour", "À jour"
    DRIFT = "ecart", "Écart"
    CEASED = "cessee", "Cessée"
    UNVERIFIED = "non_verifie", "Non vérifié"


class RegisterCheck(models.Model):
    """A client's latest check against one register.

    `values` are the register's own (mapped to our fields); `findings` the differences,
    each `{"code", "field", "label", "register", "firm"}`; `checked_at` the date of those
    values (the last answer), `attempted_at` the last try. A try that failed makes the
    status « non vérifié » with its `reason` and keeps the last values read, dated.
    """

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    register = models.CharField(max_length=10, choices=Register.choices)
    status = models.CharField(max_length=12, choices=CheckStatus.choices)
    checked_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField()
    source = models.CharField(max_length=200, blank=True)
    values = models.JSONField(default=dict, blank=True)
    findings = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # What of the client the check read (SIRET, name, legal form, APE, PA): unchanged
    # clients can be skipped.
    fingerprint = models.CharField(max_length=64, blank=True)
    # When the directory line last changed (annuaire).
    changed_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "register"], name="registercheck_unique"),
        ]
        indexes = [
            models.Index(fields=["firm", "register", "status"], name="registercheck_firm_status"),
        ]
        # A portfolio row shows its client's status (vigie.registries.rules).
        triggers = rowversion.touch_triggers()

    def __str__(self) -> str:
        return f"{self.client_id} {self.register}: {self.status}"


class RunState(models.TextChoices):
    # Its items not all written yet: the worker writes them (vigie.registries.preparation).
    PREPARING = "en_prepa", "En préparation"
    RUNNING = "en_cours", "En cours"
    DONE = "terminee", "Terminée"


# A run under way: another one for the same clients would ask the registers twice.
UNDER_WAY = (RunState.PREPARING, RunState.RUNNING)


class ExportState(models.TextChoices):
    """The directory's CSV export route of a run (many clients: ANNUAIRE_EXPORT_FROM)."""

    NONE = "", "Recherche par SIREN"
    WANTED = "a_charger", "Export à télécharger"
    LOADING = "en_charge", "Export en téléchargement"
    LOADED = "charge", "Export téléchargé"
    FAILED = "echec", "Export indisponible : recherche par SIREN"


class CheckRun(models.Model):
    """One check of some of a firm's clients (all of them, a selection, one).

    A run of many clients is created « en préparation » with what it asks (`client_ids`,
    none for every active client; `registers`; `skip_unchanged_days`) and the worker
    writes its items in chunks of clients, in client id order: `prepared_through` is the
    last client id done, `prepared` how many clients read so far, `clients` how many were
    asked for. `prepare_claimed_at` is the heartbeat of the worker preparing it (moved at
    each chunk): a run whose heartbeat is a lease old is requeued by `registers_sweep`.
    """

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.RUNNING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # The directory read from its CSV export (vigie.registries.services): whether, and
    # when a worker took the download (another takes it over once that is a lease ago).
    directory_export = models.CharField(
        max_length=10, choices=ExportState.choices, default=ExportState.NONE, blank=True
    )
    export_claimed_at = models.DateTimeField(null=True, blank=True)
    # What the run asks for (its preparation reads them).
    client_ids = models.JSONField(null=True, blank=True)
    registers = models.JSONField(default=list, blank=True)
    skip_unchanged_days = models.PositiveIntegerField(null=True, blank=True)
    # The preparation's progress and heartbeat.
    clients = models.PositiveIntegerField(default=0)
    prepared = models.PositiveIntegerField(default=0)
    prepared_through = models.BigIntegerField(default=0)
    prepare_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["firm", "-created_at"], name="checkrun_firm_created"),
            # The sweep's look for stalled preparations: the few runs in preparation.
            models.Index(
                fields=["prepare_claimed_at"],
                condition=models.Q(state="en_prepa"),
                name="checkrun_preparing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.state})"


class NightlyCheck(models.Model):
    """When the firm's last nightly check started (vigie.registries.nightly): one row per
    firm, moved to the night's date by the one sweeper that starts that night's run."""

    firm = models.OneToOneField("firms.Firm", on_delete=models.CASCADE, related_name="+")
    night = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(CheckRun, on_delete=models.SET_NULL, null=True, related_name="+")

    objects = FirmQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.firm_id}: {self.night}"


class ItemState(models.TextChoices):
    PENDING = "a_faire", "À faire"
    DONE = "fait", "Fait"


class CheckItem(models.Model):
    """One client to check against one register in a run: the durable state of its calls."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="items")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    register = models.CharField(max_length=10, choices=Register.choices)
    siren = models.CharField(max_length=9, blank=True)  # groups the calls
    state = models.CharField(max_length=8, choices=ItemState.choices, default=ItemState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=300, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "client", "register"], name="checkitem_unique"),
        ]
        indexes = [
            models.Index(
                fields=["run", "next_attempt_at"],
                condition=models.Q(state="a_faire"),
                name="checkitem_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.register}: {self.state}"


class ExportedLines(models.Model):
    """The directory lines of one SIREN of a run, read from the directory's CSV export
    (each a `DirectoryLine.as_values()`; none when the export has none for it). Held in
    the database while the run lasts, so that a worker taking over a run does not
    download the export again; deleted when the run ends."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="+")
    siren = models.CharField(max_length=9)
    lines = models.JSONField(default=list, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "siren"], name="exportedlines_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.siren}: {len(self.lines)}"


class DismissedFinding(models.Model):
    """A finding the firm dismissed, for the register's value it had then (`value`, the
    finding's `register`): the checks leave it out while the register says the same."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    register = models.CharField(max_length=10, choices=Register.choices)
    code = models.CharField(max_length=30)
    value = models.CharField(max_length=300, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_at = models.DateTimeField(auto_now_add=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "register", "code", "value"], name="dismissedfinding_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.register} {self.code}: {self.value}"


class TokenBucket(models.Model):
    """The shared pace of one register's calls, for every process (vigie.registries.pace).

    `next_at` is the next free slot and `blocked_until` the end of a `Retry-After`, both
    in seconds since the epoch by PostgreSQL's clock, so that workers on other machines
    agree. Not a tenant table: a register's limit is per IP, for every firm.
    """

    # The register, and for the directory its host ("annuaire:pa.example.fr"): each
    # platform limits its own API.
    service = models.CharField(max_length=100, primary_key=True)
    next_at = models.FloatField(default=0)
    blocked_until = models.FloatField(default=0)

    def __str__(self) -> str:
        return self.service


class DirectoryConnection(models.Model):
    """A firm's own access to its platform's (PA's) AFNOR XP Z12-013 Directory Service:
    the service's base URL and the OAuth2 client credentials that get its bearer tokens
    (RFC 6749 §4.4). Without one the firm reads the directory through the server's
    ANNUAIRE_API_URL and ANNUAIRE_API_KEY.

    The worker sends the secret to the token URL, so it is kept encrypted
    (vigie.lib.crypto), never hashed; no page shows it again once saved. `version` grows
    with every save: cached tokens are keyed by it (vigie.registries.annuaire).
    """

    firm = models.OneToOneField("firms.Firm", on_delete=models.CASCADE, related_name="+")
    base_url = models.URLField("URL du service d'annuaire", max_length=300)
    token_url = models.URLField("URL du jeton (OAuth2)", max_length=300)
    client_id = models.CharField("identifiant client", max_length=200)
    encrypted_secret = models.TextField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = FirmQuerySet.as_manager()

    ENCRYPTION_CONTEXT = "registries.directory_secret"

    def __str__(self) -> str:
        return self.base_url

    def set_secret(self, raw: str) -> None:
        self.encrypted_secret = crypto.encrypt(self.ENCRYPTION_CONTEXT, raw)

    def get_secret(self) -> str | None:
        """The secret, or None when SECRET_KEY changed since it was saved."""
        return crypto.decrypt(self.ENCRYPTION_CONTEXT, self.encrypted_secret)

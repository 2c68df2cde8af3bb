from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from vigie.firms.models import FirmQuerySet


class Status(models.TextChoices):
    DRAFT = "brouillon", "À configurer"
    QUEUED = "en_attente", "En attente"
    RUNNING = "en_cours", "En cours"
    DONE = "termine", "Terminé"
    FAILED = "echec", "Échec"


class ImportJob(models.Model):
    """One import of a CSV/XLSX file: its settings and its durable progress.

    `next_row` is the index (0-based, data rows only) of the first row not yet
    committed; a worker killed mid-import resumes from there.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=4)  # "csv" or "xlsx"
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    # The header and the first rows, read once (a CSV in the upload request, an XLSX by the
    # worker just after): the mapping page shows them without opening the file again.
    preview = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    next_row = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        verbose_name = "import"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def percent(self) -> int:
        # Done is 100 % even when some counted rows held data only in unmapped columns.
        if self.status == Status.DONE:
            return 100
        return min(100, self.processed * 100 // self.total) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in {Status.DONE, Status.FAILED}


class ImportRowError(models.Model):
    """A rejected row of an import, with its spreadsheet line number and the reasons."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    code = models.CharField(max_length=100, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="import_error_job_line")]

    def __str__(self) -> str:
        return f"{self.line}: {self.message}"


# --- « Compléter depuis le registre » on the preview ----------------------------------------


class FillStatus(models.TextChoices):
    QUEUED = "en_attente", "En attente"
    RUNNING = "en_cours", "En cours"
    DONE = "termine", "Terminé"
    FAILED = "echec", "Échec"


class RegistryFill(models.Model):
    """The company register asked about an import's first rows (vigie.imports.registry):
    the columns it read them with and its state. Each row's answer is a RegistryRow,
    written as soon as it is known, so a worker killed in the middle loses nothing."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    job = models.OneToOneField(ImportJob, on_delete=models.CASCADE, related_name="registry_fill")
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=FillStatus.choices, default=FillStatus.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)  # rows of the file looked at
    invalid_sirets = models.PositiveIntegerField(default=0)  # never sent to the register
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.job_id}: {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in {FillStatus.DONE, FillStatus.FAILED}


class RowState(models.TextChoices):
    PENDING = "en_attente", "En attente"
    FOUND = "trouve", "Trouvé"
    UNKNOWN = "inconnu", "Inconnu du registre"
    UNAVAILABLE = "indisponible", "Registre indisponible"


class RegistryRow(models.Model):
    """A row of the file with a valid SIRET and fields the import would leave empty: the
    file's values, the register's for those fields, and whether the user accepted them."""

    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    fill = models.ForeignKey(RegistryFill, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()  # the spreadsheet's row number (the header is 1)
    code = models.CharField(max_length=100)
    siret = models.CharField(max_length=14)
    file_values = models.JSONField(default=dict)  # {field: the file's text}, the empty fields
    values = models.JSONField(default=dict)  # {field: the register's value}, for those fields
    note = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=12, choices=RowState.choices, default=RowState.PENDING)
    accepted = models.BooleanField(default=False)
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker is asking for it
    checked_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        ordering = ["line"]
        constraints = [
            models.UniqueConstraint(fields=["fill", "line"], name="registry_row_unique_line"),
        ]

    def __str__(self) -> str:
        return f"{self.line}: {self.siret} {self.state}"

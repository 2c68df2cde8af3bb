"""A portfolio export too large for a request, prepared by the task worker.

Its durable state is this row: the worker claims it under a lease it renews as it writes
(`claimed_at`), so the sweep (vigie.exports.services.exports_sweep) puts back in the
queue an export whose worker died; the file is saved once whole and only then named
here, so a half-written file is never offered.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from vigie.firms.models import FirmQuerySet


class State(models.TextChoices):
    QUEUED = "a_faire", "À faire"
    RUNNING = "en_cours", "En cours"
    READY = "pret", "Prêt"
    FAILED = "echec", "Échec"
    # Its file deleted after EXPORT_KEEP_HOURS: the page says so and offers to ask again.
    EXPIRED = "expire", "Expiré"


PENDING = (State.QUEUED, State.RUNNING)


class Format(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel"


class PortfolioExport(models.Model):
    """The whole portfolio view `query` (its normalised query string) in `fmt`, for the
    collaborator who asked: computed with their rights, downloadable by them only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    firm = models.ForeignKey("firms.Firm", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    query = models.TextField(blank=True)
    fmt = models.CharField(max_length=4, choices=Format.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # The matches counted when asked; once ready, the rows written.
    rows = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When its worker last wrote a sign of life (en cours), or when the sweep queued it
    # again (à faire): a lease past EXPORT_LEASE_SECONDS means nobody is working on it.
    claimed_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = FirmQuerySet.as_manager()

    class Meta:
        verbose_name = "export du portefeuille"
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same export asked twice while it is prepared is the same row.
            models.UniqueConstraint(
                fields=["firm", "user", "fmt", "query"],
                condition=Q(state__in=["a_faire", "en_cours"]),
                name="exports_one_pending_per_request",
            ),
        ]
        indexes = [
            # « Mes exports »: one collaborator's, newest first.
            models.Index(fields=["user", "firm", "-created_at"], name="exports_user_created"),
            # The sweep's two reads: the pending ones, the finished ones by age.
            models.Index(
                fields=["claimed_at"],
                condition=Q(state__in=["a_faire", "en_cours"]),
                name="exports_pending_claimed",
            ),
            models.Index(
                fields=["finished_at"],
                condition=Q(state__in=["pret", "echec", "expire"]),
                name="exports_finished_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fmt} {self.query or '(tout)'}: {self.state}"

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING

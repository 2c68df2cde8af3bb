"""The nightly check: every firm's portfolio against the public registers, once a night.

`vigie sweep` calls `nightly_checks_start()` every round. From REGISTRY_NIGHTLY_HOUR
(Europe/Paris) on, it starts, for each firm with active clients, a run by the task worker
(created « en préparation », one row: the worker writes its items) that leaves out the clients checked within REGISTRY_NIGHTLY_UNCHANGED_DAYS whose checked
fields did not change (`skip_unchanged_days`): a firm of 5,000 clients asks the registers
about the few that changed, plus those whose last check is getting old.

Durable, whatever the number of sweepers: each firm has one `NightlyCheck` row saying
which night its last nightly run started. A sweeper claims the night by moving that row
to tonight's date in a conditional UPDATE (`night < tonight`), in the same transaction as
the run it creates: a second sweeper's UPDATE waits for the first, then finds the row
already at tonight and starts nothing; a run that failed to be created leaves the night
unclaimed. A firm whose last nightly run is still under way gets no other.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vigie.clients.models import ClientCount
from vigie.firms.models import Firm
from vigie.registries import services
from vigie.registries.models import UNDER_WAY, NightlyCheck


def nightly_checks_start(now: datetime | None = None) -> int:
    """Start tonight's run of each firm that has none yet; how many were started."""
    local = timezone.localtime(now or timezone.now())
    if local.hour < settings.REGISTRY_NIGHTLY_HOUR:
        return 0
    night = local.date()
    # The firms' counts kept by triggers (vigie.clients.counts), one row a firm: every
    # round reads as many rows as there are firms, not a scan of every client.
    firm_ids = set(ClientCount.objects.filter(active__gt=0).values_list("firm_id", flat=True))
    waiting = firm_ids - set(
        NightlyCheck.objects.filter(night=night).values_list("firm_id", flat=True)
    )
    if not waiting:
        return 0
    NightlyCheck.objects.bulk_create(
        [NightlyCheck(firm_id=pk) for pk in waiting], ignore_conflicts=True
    )
    started = 0
    for firm in Firm.objects.filter(pk__in=waiting).order_by("pk"):
        started += _start(firm, night, now=local)
    return started


@transaction.atomic
def _start(firm: Firm, night, *, now: datetime) -> int:
    row = NightlyCheck.objects.select_related("run").get(firm=firm)
    if row.run is not None and row.run.state in UNDER_WAY:
        return 0  # last night's is still going: tonight's would ask for the same clients
    claimed = (
        NightlyCheck.objects.filter(firm=firm)
        .filter(Q(night__isnull=True) | Q(night__lt=night))
        .update(night=night, started_at=now)
    )
    if not claimed:
        return 0  # another sweeper started it
    run = services.check_clients_queue(
        firm=firm, skip_unchanged_days=settings.REGISTRY_NIGHTLY_UNCHANGED_DAYS
    )
    NightlyCheck.objects.filter(firm=firm).update(run=run)
    return 1

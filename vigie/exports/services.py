"""The portfolio's exports too large for a request (EXPORT_INLINE_MAX_ROWS): asked from
the portfolio, written by the task worker, downloaded by whoever asked.

`export_request` reuses the same export still being prepared for the same person;
`export_run` (the task) claims the row, writes the file from the same rows and columns as
the inline download (vigie.clients.portfolio.export) into a temporary file, renewing its
lease as it goes, then saves it whole under a name of its own attempt and only then marks
the row ready. A worker killed half-way leaves the row « en cours » with a lease that runs
out: `exports_sweep` (`vigie sweep`) queues it again, and the next attempt writes the
file again from the start. `exports_purge` deletes the files past EXPORT_KEEP_HOURS (the
row stays « expiré » for a while, so that its page can say so).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone

from vigie.campaigns import funnel
from vigie.clients.portfolio import export, filters
from vigie.clients.portfolio.query import Lookups, Params, query_for
from vigie.exports import tasks
from vigie.exports.models import PENDING, PortfolioExport, State

log = logging.getLogger(__name__)

# A worker killed this many times on the same export (too big for its memory?) gives up.
ATTEMPTS = 3
# The lease is renewed every this many rows written (a few seconds of work at most).
BEAT_ROWS = 2000
FAILURE = "L'export n'a pas pu être préparé."
DEFAULT_PER_PAGE = Params().per_page
# How long an expired export's row is kept (its page says « expiré »), after its file went.
FORGET_AFTER = timedelta(days=30)


class LeaseLost(Exception):
    """Another worker took the export over (this one was thought dead): stop writing."""


def request_key(params: Params) -> str:
    """What an export holds, as a query string: the view, the search, the filters and the
    sort, never the page shown (an export has every matching row)."""
    return urlencode(params.as_query(page=1, per_page=DEFAULT_PER_PAGE))


def export_filename(job: PortfolioExport) -> str:
    """The name of the download, as the inline export names it, dated when written."""
    view = Params.from_query(QueryDict(job.query)).view
    day = timezone.localdate(job.finished_at) if job.finished_at else None
    return export.filename(view, job.fmt, day)


def described(job: PortfolioExport, lookups: Lookups) -> list[str]:
    """What the export holds (its view, search and filters), in the page's words."""
    params = Params.from_query(QueryDict(job.query))
    campaign = funnel.campaign_for_filter(job.firm_id, params.campagne)
    return filters.described(
        params, lookups.users.values(), lookups.solutions.values(), campaign=campaign
    )


def _lease() -> timedelta:
    return timedelta(seconds=settings.EXPORT_LEASE_SECONDS)


def _file_name(job: PortfolioExport, attempt: int) -> str:
    # One name per attempt: a worker taken over never writes over its successor's file.
    return f"exports/{job.public_id}-{attempt}.{job.fmt}"


def _pending(firm, user, params: Params, fmt: str):
    return PortfolioExport.objects.for_firm(firm).filter(
        user=user, fmt=fmt, query=request_key(params), state__in=PENDING
    )


def pending_export(*, firm, user, params: Params, fmt: str) -> PortfolioExport | None:
    """The export of that view and format still being prepared for `user`, if any."""
    return _pending(firm, user, params, fmt).first()


def export_request(*, firm, user, params: Params, fmt: str, rows: int) -> PortfolioExport:
    """The export of the portfolio view `params` in `fmt` for `user`: the one still being
    prepared for them if they asked already, else a new one queued for the worker."""
    key = request_key(params)
    pending = _pending(firm, user, params, fmt)
    found = pending.first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            job = PortfolioExport.objects.create(
                firm=firm, user=user, fmt=fmt, query=key, rows=rows, claimed_at=timezone.now()
            )
            transaction.on_commit(lambda: tasks.prepare_export.enqueue(job.pk))
    except IntegrityError:  # the same request a moment ago, in another process
        return pending.get()
    return job


class _Progress:
    """The rows written by this claim, its lease renewed every BEAT_ROWS of them."""

    def __init__(self, mine):
        self.mine, self.rows = mine, 0

    def beat(self) -> None:
        if not self.mine.update(claimed_at=timezone.now()):
            raise LeaseLost

    def each(self, lines: Iterable[list[str]]) -> Iterator[list[str]]:
        for cells in lines:
            self.rows += 1
            if self.rows % BEAT_ROWS == 0:
                self.beat()
            yield cells


def export_run(*, export_id: int) -> None:
    """Claim the export (queued, or running under a lease that ran out) and write it."""
    now = timezone.now()
    claimable = PortfolioExport.objects.filter(pk=export_id).filter(
        Q(state=State.QUEUED) | Q(state=State.RUNNING, claimed_at__lt=now - _lease())
    )
    if not claimable.update(state=State.RUNNING, claimed_at=now, attempts=F("attempts") + 1):
        return  # ready, failed, gone, or another worker's
    job = PortfolioExport.objects.select_related("firm", "user").get(pk=export_id)
    # This claim: a worker that takes the export over counts one attempt more.
    mine = PortfolioExport.objects.filter(pk=job.pk, state=State.RUNNING, attempts=job.attempts)
    if job.attempts > ATTEMPTS:
        mine.update(state=State.FAILED, error=FAILURE, finished_at=now)
        return

    progress = _Progress(mine)
    name = _file_name(job, job.attempts)
    try:
        with tempfile.TemporaryFile() as output:
            query, lookups = query_for(job.firm, job.user, QueryDict(job.query))
            lines = progress.each(export.rows(query, job.firm, lookups))
            export.write_file(job.fmt, query.params.view, lines, output)
            progress.beat()
            output.seek(0)
            saved = default_storage.save(name, File(output, name=name))
    except LeaseLost:
        log.warning("export %s taken over by another worker", job.pk)
        return
    except Exception:
        log.exception("export %s failed", job.pk)
        mine.update(state=State.FAILED, error=FAILURE, finished_at=timezone.now())
        return
    done = {"file": saved, "rows": progress.rows, "finished_at": timezone.now()}
    if not mine.update(state=State.READY, **done):
        default_storage.delete(saved)  # taken over while saving: the other attempt's file counts


def exports_sweep(*, now: datetime | None = None) -> int:
    """Queue again the exports nobody is working on any more (their worker died, or
    their task was lost); those that used up their attempts fail. Returns how many."""
    now = now or timezone.now()
    stale = PortfolioExport.objects.filter(state__in=PENDING, claimed_at__lt=now - _lease())
    stale.filter(attempts__gte=ATTEMPTS).update(state=State.FAILED, error=FAILURE, finished_at=now)
    count = 0
    for pk in list(stale.values_list("pk", flat=True)[:1000]):
        # Claimed by moving its lease: two sweepers queue it once; a worker still writing
        # it (thought dead) loses its claim at its next beat.
        if stale.filter(pk=pk).update(state=State.QUEUED, claimed_at=now):
            tasks.prepare_export.enqueue(pk)
            count += 1
    return count


def exports_purge(*, now: datetime | None = None) -> int:
    """Delete the files of the exports finished more than EXPORT_KEEP_HOURS ago (every
    attempt's): the row stays, « expiré », so that its page says what became of it, and
    goes FORGET_AFTER later. Returns how many exports expired."""
    now = now or timezone.now()
    old = PortfolioExport.objects.filter(
        state__in=(State.READY, State.FAILED),
        finished_at__lt=now - timedelta(hours=settings.EXPORT_KEEP_HOURS),
    )
    count = 0
    for job in old[:1000]:
        for attempt in range(1, job.attempts + 1):
            default_storage.delete(_file_name(job, attempt))
        count += PortfolioExport.objects.filter(pk=job.pk, state=job.state).update(
            state=State.EXPIRED, file=""
        )
    PortfolioExport.objects.filter(
        state=State.EXPIRED,
        finished_at__lt=now - timedelta(hours=settings.EXPORT_KEEP_HOURS) - FORGET_AFTER,
    ).delete()
    return count

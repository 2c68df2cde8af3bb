"""A prepared export with real processes: the task worker killed (SIGKILL) while it writes
a workbook of 20,000 rows; the sweep queues the export again once its lease has run out,
a new worker writes the whole file, and that one file is what is offered."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import ClientFactory
from tests.test_mail_worker import _database_url, _wait
from vigie.clients.models import Client
from vigie.clients.portfolio.query import query_for
from vigie.exports import tasks
from vigie.exports.models import PortfolioExport, State
from vigie.exports.services import export_request, exports_sweep

pytestmark = pytest.mark.django_db(transaction=True)
ROWS = 20_000


def _worker(var_dir) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigie.settings",
        "DATABASE_URL": _database_url(),
        "VIGIE_VAR_DIR": str(var_dir),  # MEDIA_ROOT: var_dir/media, as this process's
        "SECRET_KEY": os.environ.get("SECRET_KEY", "x" * 50),
    }
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "vigie", "db_worker", "--queue-name", tasks.QUEUE),
            *("--interval", "0.1", "--no-startup-delay"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_half_way_leaves_one_whole_file(firm_a, alice, settings, tmp_path):
    _database_url()
    settings.MEDIA_ROOT = tmp_path / "media"
    Client.objects.bulk_create(ClientFactory.build_batch(ROWS, firm=firm_a), batch_size=5000)
    query, _ = query_for(firm_a, alice, {})
    job = export_request(firm=firm_a, user=alice, params=query.params, fmt="xlsx", rows=ROWS)
    export = PortfolioExport.objects.filter(pk=job.pk)

    worker = _worker(tmp_path)
    try:
        assert _wait(lambda: export.get().state == State.RUNNING, 60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed = export.get()
    assert (killed.state, killed.attempts, killed.file.name) == (State.RUNNING, 1, "")

    # Its lease runs: nobody takes it over. Once run out, the sweep queues it again.
    assert exports_sweep() == 0
    later = timezone.now() + timedelta(seconds=settings.EXPORT_LEASE_SECONDS + 1)
    assert exports_sweep(now=later) == 1
    worker = _worker(tmp_path)
    try:
        assert _wait(lambda: export.get().state == State.READY, 120)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    done = export.get()
    assert (done.attempts, done.rows) == (2, ROWS)
    assert default_storage.listdir("exports")[1] == [f"{job.public_id}-2.xlsx"]
    with default_storage.open(done.file.name, "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).active
        assert sum(1 for _ in sheet.iter_rows(values_only=True)) == ROWS + 1

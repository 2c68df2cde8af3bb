"""Invitation bench: `.venv/bin/python bench/invite_bench.py [--clients 1000] [--workers 1]`.

On a fresh database of its own, vigie_bench_invite (bench/db.py: BENCH_PG_URL,
DATABASE_URL's server or the embedded one), with a local aiosmtpd SMTP server and real
`vigie db_worker` processes:

1. one bulk « Activer » over N ready clients (the service behind the selection
   dialog's POST), which returns at once;
2. time until the N invitation emails are all in the outbox (queued);
3. delivery rate: messages received by the SMTP server per second, from the first
   to the last one.

Targets: all queued ≤ 10 s; delivery ≥ 50 messages/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vigie-invite-bench-"))
    os.environ["VIGIE_VAR_DIR"] = str(tmp)
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("SHINE_API_KEY", "bench-only")
    os.environ.setdefault("SHINE_WEBHOOK_SECRET", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "vigie.settings"
    os.environ["SITE_URL"] = "http://localhost:8000"
    from bench.db import database_url

    os.environ["DATABASE_URL"] = database_url("vigie_bench_invite", fresh=True)

    from vigie.mail.testing import SMTPSink

    sink = SMTPSink().start()
    os.environ["EMAIL_URL"] = sink.url

    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from bench.ready import ready_firm
    from vigie.clients.models import Client
    from vigie.invitations import services
    from vigie.mail.models import OutboundEmail

    firm, user = ready_firm(
        name="Cabinet Bench",
        admin_email="bench@cabinet.fr",
        admin_first_name="Béa",
        clients=args.clients,
        code_prefix="B",
        client_name_prefix="Entreprise ",
        siren_start=30_000_000,
        email_domain="tpe-bench.fr",
    )
    clients = list(Client.objects.filter(firm=firm).prefetch_related("contacts"))
    connection.close()

    env = {**os.environ}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vigie",
                "db_worker",
                "--interval",
                "0.05",
                "--no-startup-delay",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    try:
        t0 = time.perf_counter()
        ready, blocked = services.preflight(clients)
        services.bulk_invitation_start(
            firm=firm,
            actor=user,
            clients=ready,
            plan="start",
            billing_mode="cabinet",
            subject="{cabinet} vous invite à activer Shine",
            body="Bonjour {contact},\n{offre}\n{lien}\n{collaborateur}",
        )
        t_returned = time.perf_counter() - t0
        n = len(ready)
        queued_at = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if queued_at is None and OutboundEmail.objects.count() >= n:
                queued_at = time.perf_counter() - t0
            with sink.lock:
                got = len(sink.raw)
            if got >= n:
                break
            time.sleep(0.05)
        done_at = time.perf_counter() - t0
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(10)
        sink.stop()

    times = sorted(sink_times)
    print(
        f"clients ready: {n}, blocked: {len(blocked)}, workers: {args.workers}, db: {connection.vendor}"
    )
    print(f"bulk action returned in {t_returned * 1000:.0f} ms")
    print(f"all {n} invitations queued after {queued_at:.2f} s (target <= 10 s)")
    first, last = (times[0], times[-1]) if times else (0, 0)
    rate = (len(times) - 1) / (last - first) if len(times) > 1 and last > first else 0
    print(
        f"received {len(times)} messages; delivery rate {rate:.1f} msg/s first→last "
        f"(target >= 50); all delivered after {done_at:.2f} s"
    )
    return 0


sink_times: list[float] = []

if __name__ == "__main__":
    # Timestamp each accepted message (wraps the sink's DATA handler).
    from vigie.mail import testing

    _orig = testing._Handler.handle_DATA

    async def _timed(self, server, session, envelope):
        reply = await _orig(self, server, session, envelope)
        if reply.startswith("250"):
            sink_times.append(time.perf_counter())
        return reply

    testing._Handler.handle_DATA = _timed
    sys.exit(main())

"""Campaign bench: `.venv/bin/python bench/campaign_bench.py [--clients 5000] [--workers 1]
[--kind sensibilisation]`.

On a fresh database of its own, vigie_bench_campaign (bench/db.py: BENCH_PG_URL,
DATABASE_URL's server or the embedded one), with a local aiosmtpd SMTP server and real
`vigie db_worker` processes, a firm of N clients all ready (valid SIRET, a principal
contact with an e-mail):

1. the launch dialog for « every client matching » (preflight and preview over N);
2. the launch itself, the POST the dialog sends (the portfolio's query resolved, N
   targets bulk-created, the run queued): it returns at once;
3. time until every client's e-mail is in the outbox (the worker's run);
4. delivery rate: messages received by the SMTP server per second, first to last;
5. the reference, by the same workers right after: copies of the first --reference
   e-mails queued outside a campaign, one by one with `email_queue` (a task each), then
   all at once with `email_queue_many` (tasks of BATCH_SIZE);
6. the campaign page (funnel and per-collaborator counts) once done.

Targets: launch ≤ 10 s for 5,000 clients.
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

sink_times: list[float] = []


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--kind", default="sensibilisation", choices=["sensibilisation", "mandat"])
    parser.add_argument("--reference", type=int, default=500)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vigie-campaign-bench-"))
    os.environ["VIGIE_VAR_DIR"] = str(tmp)
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("SHINE_API_KEY", "bench-only")
    os.environ.setdefault("SHINE_WEBHOOK_SECRET", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "vigie.settings"
    os.environ["SITE_URL"] = "http://localhost:8000"
    os.environ.setdefault("STATIC_MANIFEST", "0")  # pages rendered without collectstatic
    from bench.db import database_url

    os.environ["DATABASE_URL"] = database_url("vigie_bench_campaign", fresh=True)

    from vigie.mail.testing import SMTPSink

    sink = SMTPSink().start()
    os.environ["EMAIL_URL"] = sink.url

    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client as Browser
    from django.urls import reverse

    call_command("migrate", verbosity=0)

    from bench.ready import ready_firm
    from vigie.campaigns.models import Campaign, Target, TargetStatus
    from vigie.mail.models import OutboundEmail

    firm, user = ready_firm(
        name="Cabinet Campagne",
        admin_email="bench@cabinet.fr",
        admin_first_name="Béa",
        clients=args.clients,
        code_prefix="K",
        client_name_prefix="Entreprise ",
        siren_start=40_000_000,
        email_domain="tpe-campagne.fr",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum leaves a database in use
    browser = Browser(HTTP_HOST="localhost")
    browser.force_login(user)
    selection = {"all": "1", "query": "sensi=non", "kind": args.kind}

    t0 = time.perf_counter()
    dialog = browser.get(reverse("campaign_new"), selection, HTTP_HX_REQUEST="true")
    t_dialog = time.perf_counter() - t0
    assert dialog.status_code == 200, dialog.status_code
    connection.close()

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
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    try:
        time.sleep(2)  # the workers up before the clock starts
        t0 = time.perf_counter()
        response = browser.post(reverse("campaign_launch"), selection)
        t_launch = time.perf_counter() - t0
        assert response.status_code == 302, response.status_code
        campaign = Campaign.objects.get()
        n = campaign.targets.count()
        sent = Target.objects.filter(campaign=campaign).exclude(status=TargetStatus.PENDING)
        queued_at = None
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            if queued_at is None and sent.count() >= n:
                queued_at = time.perf_counter() - t0
            with sink.lock:
                got = len(sink.raw)
            if got >= n:
                break
            time.sleep(0.1)
        done_at = time.perf_counter() - t0
        emails = OutboundEmail.objects.filter(firm=firm).count()
        times = sorted(sink_times)
        references = _references(sink, firm, min(args.reference, n))
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(10)
        sink.stop()

    t1 = time.perf_counter()
    page = browser.get(reverse("campaign_detail", args=[campaign.public_id]))
    t_page = time.perf_counter() - t1
    assert page.status_code == 200

    first, last = (times[0], times[-1]) if times else (0, 0)
    rate = (len(times) - 1) / (last - first) if len(times) > 1 and last > first else 0
    print(f"clients: {n}, kind: {args.kind}, workers: {args.workers}, cores: {os.cpu_count()}")
    print(f"launch dialog (preflight + preview over {n}): {t_dialog * 1000:.0f} ms")
    print(f"launch returned (targets bulk-created, run queued) in {t_launch * 1000:.0f} ms "
          "(target <= 10 s)")  # fmt: skip
    print(f"all {n} e-mails in the outbox after {queued_at:.2f} s ({n / queued_at:.0f} clients/s)")
    print(
        f"received {len(times)} messages ({emails} outbox rows); delivery rate {rate:.1f} msg/s "
        f"first→last; all delivered after {done_at:.2f} s"
    )
    for label, count, ref_rate in references:
        print(f"reference, {count} of the same e-mails outside a campaign, {label}: "
              f"delivery rate {ref_rate:.1f} msg/s first→last")  # fmt: skip
    print(f"campaign page (funnel over {n}) once done: {t_page * 1000:.0f} ms")
    return 0


def _rate(times: list[float]) -> float:
    times = sorted(times)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0


def _references(sink, firm, count: int) -> list[tuple[str, int, float]]:
    """Copies of the campaign's first `count` e-mails queued again outside it, one by one
    then all at once, delivered by the same workers: the outbox's own rate beside it."""
    from vigie.mail import services
    from vigie.mail.models import OutboundEmail

    fields = ["to", "subject", "text", "html", "reply_to", "from_name", "client", "kind"]
    rows = OutboundEmail.objects.filter(firm=firm).select_related("client").order_by("id")[:count]
    items = [{"firm": firm, **{f: getattr(row, f) for f in fields}} for row in rows]
    results = []
    for label, queue in (
        (
            "one by one (email_queue, a task each)",
            lambda: [services.email_queue(**i) for i in items],
        ),
        ("at once (email_queue_many, batches)", lambda: services.email_queue_many(items)),
    ):
        with sink.lock:
            start, expected = len(sink_times), len(sink.raw) + len(items)
        queue()
        sink.wait_for(expected, timeout=600)
        time.sleep(0.1)  # the last timestamp is taken just after the message is kept
        results.append((label, len(items), _rate(sink_times[start:])))
    return results


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

"""Time the reform dashboard on a firm of 100,000 clients: `make bench-reform`.

    .venv/bin/python bench/reform_bench.py [--clients 100000] [--events 300000]

Builds the portfolio with bench.generate (once, in its own database vigie_bench_reform:
bench/db.py), adds reform states and history events spread over 12 weeks, then times the
dashboard's queries and the whole page through Django's test client (medians of 7 runs).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ["DEBUG"] = "0"
    # Production-like settings need these; the bench never calls the partner.
    os.environ.setdefault("SHINE_API_KEY", "bench-api-key")
    os.environ.setdefault("SHINE_WEBHOOK_SECRET", "bench-webhook-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # django.test.Client's host
    from bench.db import database_url

    os.environ["DATABASE_URL"] = database_url("vigie_bench_reform")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client as HttpClient
    from django.utils import timezone

    from bench.generate import build
    from vigie.accounts.models import User
    from vigie.clients.models import Client, ClientEvent
    from vigie.firms.models import Firm
    from vigie.reform import dashboard

    call_command("migrate", verbosity=0)
    firm = Firm.objects.filter(name="Bench 0").first()
    if firm is None:
        build(firms=1, clients_per_firm=args.clients)
        firm = Firm.objects.get(name="Bench 0")
        rng = random.Random(3)
        ids = list(Client.objects.filter(firm=firm).values_list("id", flat=True))
        Client.objects.filter(id__in=rng.sample(ids, len(ids) // 3)).update(sensitised=True)
        kinds = ["reform.sensitised", "reform.mandate_signed", "reform.pa_registered"]
        now = timezone.now()
        batch = []
        for _ in range(args.events):
            batch.append(
                ClientEvent(
                    firm=firm,
                    client_id=rng.choice(ids),
                    kind=rng.choice(kinds + ["client.updated"]),
                    summary="bench",
                )
            )
            if len(batch) == 20_000:
                ClientEvent.objects.bulk_create(batch)
                batch = []
        ClientEvent.objects.bulk_create(batch)
        # Spread them over the last 16 weeks.
        with connection.cursor() as cursor:
            for i in range(16):
                start = now - timedelta(weeks=i + 1)
                cursor.execute(
                    f"UPDATE {ClientEvent._meta.db_table} SET at = %s WHERE firm_id = %s AND id %% 16 = %s",
                    [start, firm.id, i],
                )
    total = Client.objects.filter(firm=firm).count()
    events = ClientEvent.objects.filter(firm=firm).count()

    def median(fn, runs=7):
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t) * 1000)
        return statistics.median(samples)

    figures = dashboard.firm_figures(firm)
    user = User.objects.filter(membership__firm=firm, membership__role="admin").first() or (
        User.objects.filter(membership__firm=firm).first()
    )
    http = HttpClient()
    http.force_login(user)
    print(f"{connection.vendor}: firm of {total} clients, {events} history rows")
    print(f"firm_figures         {median(lambda: dashboard.firm_figures(firm)):8.1f} ms")
    print(f"collaborator_figures {median(lambda: dashboard.collaborator_figures(firm)):8.1f} ms")
    print(
        f"weekly_progress      {median(lambda: dashboard.weekly_progress(firm, figures)):8.1f} ms"
    )
    print(f"GET /reforme/        {median(lambda: http.get('/reforme/')):8.1f} ms")


if __name__ == "__main__":
    main()

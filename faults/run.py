"""The fault suite: `make faults` (full) or `python -m faults.run --quick` (CI, ≤ 5 min).

Real `vigie db_worker` processes and a `vigie sweep` on PostgreSQL (database
vigie_faults, created here), a real SMTP server (aiosmtpd) and the sandbox partner.
Faults: SIGKILL of a worker during a bulk send of 500 invitations, during an import
and during partner calls; SMTP 4xx, 5xx and a hanging SMTP server; a partner that
times out; and (full mode only) PostgreSQL stopped and started during the bulk send.

After recovery each scenario checks: every invitation delivered, none lost; a message
received twice only after a kill, always with the same Message-ID; one partner
invitation per invitation, never two accounts; no row left in a transient state; the
import complete. Prints a table; exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faults.stack import Stack, pg_stop_start  # noqa: E402

PG_OUTAGE = 3.0  # seconds asleep; stop + start add ~5 s. Others share this cluster: ≤ 10 s


@dataclass
class Outcome:
    name: str
    faults: str
    invitations: int = 0
    delivered: int = 0
    received: int = 0
    duplicates: int = 0
    partner: str = ""
    stuck: int = 0
    restarts: int = 0
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> None:
        if not ok:
            self.violations.append(text)


# -- data ---------------------------------------------------------------------------------


def make_firm(name: str, clients: int, prefix: str):
    from bench.ready import ready_firm

    return ready_firm(
        name=name,
        admin_email=f"admin-{prefix.lower()}@faults.test",
        admin_first_name="Admin",
        clients=clients,
        code_prefix=prefix,
        client_name_prefix=f"Entreprise {prefix} ",
        siren_start=(abs(hash(prefix)) % 90 + 10) * 1_000_000,
        email_domain=f"{prefix.lower()}.faults.test",
    )


def start_bulk(firm, user):
    from vigie.clients.models import Client
    from vigie.invitations import services

    clients = list(Client.objects.filter(firm=firm).prefetch_related("contacts"))
    ready, blocked = services.preflight(clients)
    assert not blocked, blocked[:3]
    return services.bulk_invitation_start(
        firm=firm,
        actor=user,
        clients=ready,
        plan="start",
        billing_mode="cabinet",
        subject="{cabinet} vous invite à activer Shine",
        body="Bonjour {contact},\n{offre}\n{lien}\n{collaborateur}",
    )


# -- checks -------------------------------------------------------------------------------


def settled(firm) -> bool:
    """Nothing of this firm is in a transient state any more."""
    from vigie.invitations.models import BulkInvitation, BulkStatus
    from vigie.mail.models import EmailStatus, OutboundEmail
    from vigie.partners.models import PartnerLink, PartnerState

    return not (
        OutboundEmail.objects.filter(
            firm=firm, status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]
        ).exists()
        or PartnerLink.objects.filter(firm_id=firm.pk, state=PartnerState.PENDING).exists()
        or BulkInvitation.objects.filter(firm=firm, status=BulkStatus.RUNNING).exists()
    )


def verify_invitations(stack: Stack, out: Outcome, firm, expected: int, send_kills: int) -> None:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from vigie.invitations.models import BulkInvitation, BulkStatus, Invitation, Status
    from vigie.mail.models import EmailStatus, OutboundEmail
    from vigie.partners.models import PartnerLink, PartnerState

    invitations = Invitation.objects.filter(firm=firm)
    emails = OutboundEmail.objects.filter(firm=firm, kind="invitation")
    ours = dict(emails.values_list("message_id", "attempts"))
    received = {mid: n for mid, n in stack.received().items() if mid in ours}
    out.invitations = invitations.count()
    out.delivered = emails.filter(status=EmailStatus.SENT).count()
    out.received = sum(received.values())
    dupes = {mid: n for mid, n in received.items() if n > 1}
    out.duplicates = sum(n - 1 for n in dupes.values())
    total, distinct, extra_accounts = stack.sandbox_invitations(str(firm.public_id))
    links = PartnerLink.objects.filter(firm_id=firm.pk)
    created = links.filter(state=PartnerState.CREATED).count()
    out.partner = f"{created}/{total}/{distinct}"
    out.stuck = (
        emails.exclude(status=EmailStatus.SENT).count()
        + links.exclude(state=PartnerState.CREATED).count()
        + invitations.exclude(status=Status.SENT).count()
        + BulkInvitation.objects.filter(firm=firm).exclude(status=BulkStatus.DONE).count()
    )
    bulk = BulkInvitation.objects.filter(firm=firm).first()
    out.check(out.invitations == expected, f"{out.invitations} invitations, {expected} expected")
    out.check(bulk is not None and bulk.done == expected, "the bulk run did not count them all")
    out.check(out.delivered == expected, f"{out.delivered}/{expected} emails sent")
    out.check(len(received) == expected, f"{len(received)} distinct Message-IDs received")
    out.check(
        all(ours[mid] >= 2 for mid in dupes),
        "a message received twice that was never retried",
    )
    out.check(
        len(dupes) <= send_kills,
        f"{len(dupes)} messages received twice for {send_kills} kills during sending",
    )
    out.check(
        total == distinct == expected == created,
        f"partner invitations: {created} links created, {total} at the partner, "
        f"{distinct} distinct (expected {expected})",
    )
    out.check(extra_accounts == 0, f"{extra_accounts} second accounts at the partner")
    out.check(out.stuck == 0, f"{out.stuck} rows not in a final state")
    overdue = DBTaskResult.objects.filter(
        status="READY", run_after__lte=timezone.now() - timedelta(seconds=30)
    ).count()
    out.check(overdue == 0, f"{overdue} tasks waiting past their time")


def _restarts(stack: Stack, before: int) -> int:
    return sum(p.restarts for p in stack.procs) - before


# -- scenarios ----------------------------------------------------------------------------


def scenario_bulk(stack: Stack, *, clients: int, pg_restart: bool) -> Outcome:
    """Bulk send of N invitations; SIGKILL a worker while the run creates invitations,
    while the emails go out (twice), while the partner calls go out; optionally stop
    and start PostgreSQL in the middle of the send."""
    from vigie.invitations.models import Invitation
    from vigie.partners.models import PartnerLink, PartnerState

    out = Outcome(f"bulk send of {clients}", "")
    kills_before = sum(p.kills for p in stack.procs)
    firm, user = make_firm("Cabinet Panne Envoi", clients, "BK")
    before = sum(p.restarts for p in stack.procs)
    started = time.monotonic()
    bulk = start_bulk(firm, user)
    workers = stack.workers
    send_kills = 0
    outage = 0.0

    def received() -> int:
        return len(stack.sink.raw)

    base = received()
    # 1. in the middle of the bulk run (after its first chunk committed)
    if stack.wait(
        lambda: (
            Invitation.objects.filter(bulk_id=bulk.pk).exists()
            and Invitation.objects.filter(bulk_id=bulk.pk).count() < clients
        ),
        60,
        0.05,
    ):
        for w in workers:  # whichever holds the run
            w.kill()
    # 2. and 3. while the emails go out
    for fraction in (0.2, 0.6):
        if stack.wait(lambda f=fraction: received() - base >= clients * f, 120, 0.05):
            workers[0].kill()
            send_kills += 1
            if fraction == 0.6 and pg_restart:
                outage = pg_stop_start(PG_OUTAGE)
                send_kills += len(workers)  # every worker may die between accept and record
    # 4. while partner calls are in flight
    if stack.wait(
        lambda: (
            0
            < PartnerLink.objects.filter(firm_id=firm.pk, state=PartnerState.CREATED).count()
            < clients
        ),
        120,
        0.05,
    ):
        workers[-1].kill()
        send_kills += 1  # a batch of emails may be in flight on that worker too
    ok = stack.wait(lambda: settled(firm), 240, 1.0)
    out.check(ok, "did not settle within 240 s")
    kills = sum(p.kills for p in stack.procs) - kills_before
    out.faults = f"SIGKILL ×{kills} (bulk run, 2× sending, partner calls)"
    if pg_restart:
        out.faults += f", PostgreSQL stopped {outage:.1f} s"
    out.seconds = time.monotonic() - started
    out.restarts = _restarts(stack, before)
    verify_invitations(stack, out, firm, clients, send_kills)
    return out


def scenario_smtp(stack: Stack, *, clients: int) -> Outcome:
    """SMTP answers 4xx (retried), 5xx (failed, then « Renvoyer »), and hangs (timeout)."""
    from vigie.mail.models import EmailStatus, OutboundEmail
    from vigie.mail.services import email_retry

    out = Outcome(f"SMTP faults, {clients} invitations", "SMTP 451 ×10, 550 ×3, hang 12 s")
    firm, user = make_firm("Cabinet Panne SMTP", clients, "SM")
    before = sum(p.restarts for p in stack.procs)
    started = time.monotonic()
    stack.sink.stall_next_rcpt(12)  # the client gives up after EMAIL_TIMEOUT (5 s)
    stack.sink.refuse_next("451 4.3.0 Try again later", count=10)
    stack.sink.refuse_next("550 5.1.1 Mailbox unavailable", count=3)
    start_bulk(firm, user)
    stack.wait(lambda: settled(firm), 180, 0.5)
    failed = list(OutboundEmail.objects.filter(firm=firm, status=EmailStatus.FAILED))
    out.check(len(failed) == 3, f"{len(failed)} emails failed for 3 permanent refusals")
    out.check(all(e.last_error.startswith("550") for e in failed), "a failure without its 550")
    for email in failed:  # what « Renvoyer » does
        email_retry(email=email)
    ok = stack.wait(lambda: settled(firm), 120, 0.5)
    out.check(ok, "did not settle")
    out.seconds = time.monotonic() - started
    out.restarts = _restarts(stack, before)
    verify_invitations(stack, out, firm, clients, 0)
    return out


def scenario_partner(stack: Stack, *, clients: int, full: bool) -> Outcome:
    """The partner hangs (longer than SHINE_TIMEOUT); a worker is SIGKILLed in the middle
    of a hanging call; (full) the partner answers 500 twice."""
    out = Outcome(
        f"partner faults, {clients} invitations",
        "partner timeout ×2, SIGKILL mid-call" + (", partner 500 ×2" if full else ""),
    )
    firm, user = make_firm("Cabinet Panne Partenaire", clients, "PA")
    before = sum(p.restarts for p in stack.procs)
    started = time.monotonic()
    stack.sandbox.fault("timeout", count=2)
    start_bulk(firm, user)
    kills = 0
    # The first call hangs: kill the worker in the middle of it.
    if stack.wait(lambda: stack.sandbox_faults_left() < 2, 60, 0.05):
        for w in stack.workers:
            w.kill()
            kills += 1
    # The second hanging call times out on our side (SHINE_TIMEOUT) and is retried.
    if full:
        stack.wait(lambda: stack.sandbox_faults_left() == 0, 60, 0.2)
        stack.sandbox.fault("500", count=2)
    ok = stack.wait(lambda: settled(firm), 270, 1.0)
    out.check(ok, "did not settle")
    out.seconds = time.monotonic() - started
    out.restarts = _restarts(stack, before)
    verify_invitations(stack, out, firm, clients, kills)
    return out


def scenario_import(stack: Stack, *, rows: int) -> Outcome:
    """SIGKILL the worker in the middle of an import; the page shows it stalled, « Reprendre »
    resumes it: every row imported exactly once."""
    from vigie.clients.models import Client
    from vigie.imports.models import ImportJob, Status
    from vigie.imports.services import import_create, import_start
    from vigie.imports.tasks import run_import

    out = Outcome(f"import of {rows} rows", "SIGKILL mid-import, then « Reprendre »")
    firm, user = make_firm("Cabinet Panne Import", 0, "IM")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["Code client", "Raison sociale"])
    for n in range(rows):
        writer.writerow([f"IMP{n:06d}", f"Société importée {n}"])
    path = stack.tmp / "import.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    before = sum(p.restarts for p in stack.procs)
    started = time.monotonic()
    job = import_create(firm=firm, actor=user, path=str(path))
    import_start(job=job, mapping=job.mapping)
    killed_at = None

    def midway() -> bool:
        job.refresh_from_db()
        return 0 < job.processed < rows

    if stack.wait(midway, 120, 0.05):
        for w in stack.workers:
            w.kill()
        killed_at = job.processed
    time.sleep(3)  # the restarted workers find nothing: the task died with its worker
    job.refresh_from_db()
    stalled = job.status == Status.RUNNING and job.processed < rows
    out.check(killed_at is not None, "the import finished before it could be killed")
    if stalled:
        run_import.enqueue(job.pk)  # what « Reprendre » does
    ok = stack.wait(lambda: ImportJob.objects.get(pk=job.pk).is_finished, 180, 0.5)
    job.refresh_from_db()
    imported = Client.objects.filter(firm=firm).count()
    out.invitations = out.delivered = 0
    out.received = imported
    out.partner = "–"
    out.stuck = 0 if job.status == Status.DONE else 1
    out.check(ok and job.status == Status.DONE, f"import ended {job.status}")
    out.check(imported == rows, f"{imported} clients for {rows} rows")
    out.check(
        (job.processed, job.created_count, job.rejected_count) == (rows, rows, 0),
        f"counters {job.processed} processed, {job.created_count} created, "
        f"{job.rejected_count} rejected",
    )
    out.faults += f" (killed at row {killed_at})"
    out.seconds = time.monotonic() - started
    out.restarts = _restarts(stack, before)
    return out


# -- report -------------------------------------------------------------------------------


def print_table(outcomes: list[Outcome], mode: str) -> None:
    head = (
        "scenario",
        "faults injected",
        "invitations",
        "sent",
        "received",
        "dupl.",
        "partner links/at partner/distinct",
        "stuck",
        "restarts",
        "time",
        "result",
    )
    rows = [
        (
            o.name,
            o.faults,
            str(o.invitations),
            str(o.delivered),
            str(o.received),
            str(o.duplicates),
            o.partner,
            str(o.stuck),
            str(o.restarts),
            f"{o.seconds:.0f} s",
            "PASS" if not o.violations else "FAIL",
        )
        for o in outcomes
    ]
    print(f"\nFault suite ({mode}) — PostgreSQL, real workers, SMTP server, sandbox partner\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\n(import row: `received` is the number of clients imported.)")
    for o in outcomes:
        for v in o.violations:
            print(f"VIOLATION [{o.name}]: {v}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI mode: ≤ 5 min, no PG restart")
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--db", default="vigie_faults")
    args = parser.parse_args()
    full = not args.quick
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's dialogue
    stack = Stack(db_name=args.db, workers=2)
    outcomes: list[Outcome] = []
    started = time.monotonic()
    try:
        stack.start()
        outcomes.append(scenario_bulk(stack, clients=args.clients, pg_restart=full))
        outcomes.append(scenario_smtp(stack, clients=60 if full else 40))
        outcomes.append(scenario_partner(stack, clients=20, full=full))
        outcomes.append(scenario_import(stack, rows=10000 if full else 6000))
    finally:
        stack.stop()
    print_table(outcomes, "full" if full else "quick")
    failed = sum(1 for o in outcomes if o.violations)
    print(
        f"\n{len(outcomes) - failed} passed, {failed} failed "
        f"in {time.monotonic() - started:.0f} s (logs: {stack.tmp})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

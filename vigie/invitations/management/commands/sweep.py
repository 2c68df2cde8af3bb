"""`vigie sweep [--every SECONDS]`: the periodic upkeep `make run` keeps running.

The task backend does not retry a task whose worker died; our rows know what is due, and
this command puts it back in the queue: outbound emails and partner calls. It also
sends the invitations' automatic reminders, expires the overdue ones, closes the task
backend's records left RUNNING by a dead worker, forgets the API's stored idempotent
responses past their retention and the used launch-link nonces past their link's life,
requeues the register checks a dead worker left, restarts the campaigns whose run
went quiet, reminds or expires the mandates awaiting signature, and requeues the
portfolio exports a dead worker left (deleting those kept past EXPORT_KEEP_HOURS).

It composes several features, so it sits in the pages layer of .importlinter; it lives
with the invitations, whose workflow drives the partner calls and most of the emails.
"""

from __future__ import annotations

import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, InterfaceError, connections

from vigie.api.idempotency import idempotency_records_purge
from vigie.campaigns.services import campaigns_sweep
from vigie.exports.services import exports_purge, exports_sweep
from vigie.integrations.launch import nonces_purge
from vigie.invitations.lifecycle import invitations_lifecycle
from vigie.invitations.services import bulk_invitations_sweep
from vigie.lib.task_records import task_records_reap
from vigie.mail.services import mail_sweep
from vigie.partners.services import partners_sweep
from vigie.reform.lifecycle import mandates_lifecycle
from vigie.registries.nightly import nightly_checks_start
from vigie.registries.services import registers_sweep

log = logging.getLogger(__name__)

SWEEPS = [
    ("e-mails", mail_sweep),
    ("appels partenaire", partners_sweep),
    ("invitations groupées reprises", bulk_invitations_sweep),
    ("invitations relancées ou expirées", invitations_lifecycle),
    ("tâches abandonnées par un worker arrêté", task_records_reap),
    ("réponses idempotentes expirées", idempotency_records_purge),
    ("liens de connexion utilisés oubliés", nonces_purge),
    ("contrôles des registres repris", registers_sweep),
    ("contrôles des registres de la nuit lancés", nightly_checks_start),
    ("campagnes reprises", campaigns_sweep),
    ("mandats relancés ou expirés", mandates_lifecycle),
    ("exports du portefeuille repris", exports_sweep),
    ("exports du portefeuille expirés (fichiers effacés)", exports_purge),
]


class Command(BaseCommand):
    help = "Requeue work that a dead worker left behind (emails, partner calls)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Run forever, every N seconds.")

    def handle(self, *args, every: float = 0, **options):
        while True:
            for label, sweep in SWEEPS:
                try:
                    count = sweep()
                except (DatabaseError, InterfaceError):
                    if not every:
                        raise
                    # The database is away (restart, failover): try again next round.
                    log.exception("sweep %s failed", label)
                    connections.close_all()
                    continue
                if count or not every:
                    self.stdout.write(f"{label} : {count}")
            if not every:
                return
            time.sleep(every)

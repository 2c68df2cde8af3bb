"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first statement of every
request on a persistent connection: one more round trip per request. A connection the
server has ended (a restart, an administrator's `pg_terminate_backend`, PgBouncer going
away) has something to read on its socket: the server's closing message or the end of
the stream. So an idle connection whose socket
has nothing to read is taken as alive without asking; anything else gets Django's own
check (`SELECT 1`, and a new connection if that fails)."""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self._quiet()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _quiet(self) -> bool:
        """Idle, outside a transaction, and nothing from the server waiting to be read."""
        conn = self.connection
        try:
            if conn.closed or conn.info.transaction_status != pq.TransactionStatus.IDLE:
                return False
            poller = select.poll()
            poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
            return not poller.poll(0)
        except (OSError, ValueError, base.Database.Error):
            return False

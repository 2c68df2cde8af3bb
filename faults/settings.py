"""Production settings with short leases, so that a fault drill recovers in seconds.

Everything else is vigie.settings: the workers and the sweeper of a drill run this module
(DJANGO_SETTINGS_MODULE=faults.settings). In production the leases are minutes long.
"""

from vigie.settings import *  # noqa: F403

# A row left in "sending" by a killed worker goes back to the queue after this long.
MAIL_SENDING_LEASE = 20
# Retries after a temporary SMTP failure (4xx, timeout): seconds, not minutes.
MAIL_RETRY_DELAYS = [2, 4, 8, 15]
# A bulk run whose task has been RUNNING this long is taken for dead and requeued.
BULK_INVITATION_LEASE = 20
PARTNER_RETRY_DELAYS = [3, 6, 12, 20]

"""`email_status_changed(sender=OutboundEmail, email=...)`: sent inside the transaction
that changed the row's status (queued again with a next try, sent, failed), so a
listener (an invitation) keeps its own status in step atomically."""

from __future__ import annotations

from django.dispatch import Signal

email_status_changed = Signal()

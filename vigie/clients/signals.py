"""What the client core tells the features built on it, without knowing them.

`contact_email_changed(sender=Contact, contact=..., old_email=..., actor=...)`: sent inside
the transaction of `contact_update` when a contact's address changed. A receiver returns
the list of things it voided because of it (invitations to the old address), shown to the
collaborator; `contact_update` gathers them in `contact.voided_invitations`.
"""

from __future__ import annotations

from django.dispatch import Signal

contact_email_changed = Signal()

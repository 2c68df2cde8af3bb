"""What the partner reports, for the workflows that follow it (invitations) to react.

Both are sent inside the transaction that recorded the partner's webhook, with
`sender=PartnerLink, link=..., invitation=...`:
- `partner_account_activated`: the account exists at the partner;
- `partner_invitation_expired`: the partner let its invitation expire.
"""

from __future__ import annotations

from django.dispatch import Signal

partner_account_activated = Signal()
partner_invitation_expired = Signal()

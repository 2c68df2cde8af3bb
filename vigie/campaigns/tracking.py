"""The personal link of a sensibilisation or Shine campaign e-mail, and its « ouvert ».

Each target's e-mail (and its reminders) carries one link: a token signed with
SECRET_KEY (django.core.signing, its own salt) naming the target by the public ids of its
campaign and its client (a pair that is unique; no integer id a reader could guess).
Following it shows a public page; the open is recorded only when the page, once loaded
in a browser, posts it back (or when the client clicks « Continuer vers Shine »): a mail
filter that fetches every link (Outlook Safe Links, Mimecast…) sends a GET or a HEAD,
never that POST, and so opens nothing. The first open sets `Target.opened_at` and writes
one line in the client's history; later ones change nothing.

A token that was not signed by us, or names a target that no longer exists, leads to a
404. The link does not expire: the page only informs, and Shine's own link, where a
Shine target is forwarded, has its own expiry.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from vigie.campaigns.models import Campaign, Kind, Target
from vigie.clients import history
from vigie.clients.models import Client
from vigie.lib.site import site_url

SALT = "vigie.campaigns.tracking"
# The kinds whose e-mail carries this link (a mandate's carries its signing link).
TRACKED = (Kind.SENSITISATION, Kind.SHINE)


def _signer() -> signing.Signer:
    # Without a timestamp: the reminders carry the very same link, byte for byte.
    return signing.Signer(salt=SALT)


def make_token(campaign: Campaign, client: Client) -> str:
    return _signer().sign_object([campaign.public_id.hex, client.public_id.hex])


def link_url(campaign: Campaign, client: Client) -> str:
    """The absolute URL the e-mail of the campaign's target `client` carries."""
    token = make_token(campaign, client)
    return site_url(reverse("campaign_link", args=[token]))


def target_for(token: str) -> Target | None:
    """The target a token names, or None when it is not one of ours (tampered, made for
    another use) or its target is gone."""
    try:
        campaign_hex, client_hex = _signer().unsign_object(token)
        campaign_id, client_id = uuid.UUID(hex=campaign_hex), uuid.UUID(hex=client_hex)
    except (signing.BadSignature, TypeError, ValueError, AttributeError):
        return None
    return (
        Target.objects.select_related(
            "campaign", "campaign__firm", "campaign__created_by", "client", "invitation"
        )
        .filter(
            campaign__public_id=campaign_id,
            client__public_id=client_id,
            campaign__kind__in=TRACKED,
        )
        .first()
    )


def target_open(*, target: Target, now: datetime | None = None) -> bool:
    """The client opened its e-mail's link (a human signal, see above): recorded once, a
    conditional UPDATE, so two tabs at once record it once. True when this call did."""
    now = now or timezone.now()
    with transaction.atomic():
        opened = Target.objects.filter(pk=target.pk, opened_at__isnull=True).update(opened_at=now)
        if opened:
            history.record(
                target.client,
                actor=None,
                kind="campaign.opened",
                summary=f"Campagne « {target.campaign.name} » : e-mail ouvert",
            )
    if opened:
        target.opened_at = now
    return bool(opened)

"""Addresses that users give the server to call (a firm's platform, say) must not lead it
into its own network: the loopback, private ranges, link-local ones (where clouds serve
their instance metadata), reserved or multicast ones. `OUTBOUND_PRIVATE_HOSTS` allows them
where they are the point: development and tests, whose sandbox listens on 127.0.0.1.

The host is resolved when the address is saved and again before each use; a name that
resolves elsewhere between that check and the connection (DNS rebinding) is not covered.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class PrivateAddress(ValueError):
    """The address leads into the server's own network. The message is French."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def refuse_private(url: str) -> None:
    """Raise PrivateAddress when `url`'s host is, or resolves to, an address that is not
    public. A name that does not resolve passes: calling it fails on its own."""
    if settings.OUTBOUND_PRIVATE_HOSTS:
        return
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return
    if not all(_public(a) for a in addresses):
        raise PrivateAddress(
            "Cette adresse mène au réseau interne du serveur : elle n'est pas acceptée."
        )

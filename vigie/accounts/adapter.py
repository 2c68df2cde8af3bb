from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal.ratelimit import get_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Collaborators are added by their firm's admin, never by themselves.
        return False

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # The key of the "login_failed" rate limit's per-key part (settings.py): allauth's
        # is the address alone, so five wrong passwords from anywhere locked the
        # collaborator out from every IP. With the IP (IPv6 by /64, as allauth counts
        # "ip"), a stranger locks out only the IP they try from.
        key = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{key}:{get_ip(request)}"

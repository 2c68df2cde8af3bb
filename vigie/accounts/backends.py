from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from vigie.accounts.models import User


class AuthenticationBackend(AllauthBackend):
    """allauth's backend; the signed-in user is read with its membership and firm, which
    every page needs (`FirmMiddleware` sets `request.firm`): one statement, not three."""

    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("membership__firm").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

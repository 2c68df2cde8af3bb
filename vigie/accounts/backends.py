from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from vigie.accounts.models import User


class AuthenticationBackend(AllauthBackend):
    """allauth's backend, loading the user with its firm in the same query.

    Every request needs `request.firm`; joining it here saves a query per page.
    """

    def get_user(self, user_id):
        try:
            user = User.objects.select_related("membership__firm").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

"""Django's admin, for the people who run Vigie, never for a firm.

It lists every firm's rows, so:
- it is in the URLconf only when `ADMIN_ENABLED` (DEBUG by default, vigie/urls.py);
- only active superusers get in: a staff flag alone opens nothing;
- its own password form is never used: `/admin/login/` sends a visitor to allauth's
  sign-in (`secure_admin_login`), where the second factor and the rate limits apply.
"""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from allauth.account.utils import get_next_redirect_url
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse


class OperatorAdminSite(AdminSite):
    def has_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def login(self, request, extra_context=None):
        return secure_admin_login(self._signed_in)(request)

    def _signed_in(self, request):
        # secure_admin_login has sent visitors to sign in and refused non-staff accounts.
        # Never the admin's form, even to a superuser: a POST of someone else's password
        # would sign them in without their second factor.
        if not self.has_permission(request):
            raise PermissionDenied
        index = reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(get_next_redirect_url(request) or index)

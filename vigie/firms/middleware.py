from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist


class FirmMiddleware:
    """Sets `request.membership` and `request.firm` for a signed-in collaborator.

    Both are None for anonymous visitors and for accounts without a firm (a bare
    superuser); views behind `firm_required` never see that case.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.firm = None
        user = request.user
        if user.is_authenticated:
            try:
                request.membership = user.membership
            except ObjectDoesNotExist:
                pass
            else:
                request.firm = request.membership.firm
        return self.get_response(request)

"""/compte/: allauth's pages, less its e-mail management.

Vigie signs in with the one address the firm's admin set (ACCOUNT_EMAIL_VERIFICATION is
"none"): an address a collaborator could add to their own account, unverified, would make
a password reset for it mail a link into their account; making it primary would take
another person's address. These routes come first and answer 404; allauth's keep their
names, so its templates still reverse them.
"""

from __future__ import annotations

from django.urls import include, path, re_path

from vigie.accounts import views

urlpatterns = [
    path("email/", views.email_management),
    re_path(r"^confirm-email/", views.email_management),
    path("", include("allauth.urls")),
]

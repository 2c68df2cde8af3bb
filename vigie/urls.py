from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

# Django's admin lists every firm's rows: only when ADMIN_ENABLED, superusers only
# (vigie/accounts/admin_site.py).
admin_urlpatterns = [path("admin/", admin.site.urls)] if settings.ADMIN_ENABLED else []

urlpatterns = [
    path("compte/", include("vigie.accounts.urls")),
    *admin_urlpatterns,
    path("parametres/", include("vigie.firms.urls")),
    path("integrations/", include("vigie.integrations.urls")),
    path("imports/", include("vigie.imports.urls")),
    path("api/", include("vigie.api.urls")),
    path("reforme/", include("vigie.reform.urls")),
    path("registres/", include("vigie.registries.urls")),
    path("campagnes/", include("vigie.campaigns.urls")),
    path("dev/mail/", include("vigie.mail.urls")),
    path("equipement/", include("vigie.equipment.urls")),
    path("invitations/", include("vigie.invitations.urls")),
    path("", include("vigie.partners.urls")),
    path("portefeuille/exports/", include("vigie.exports.urls")),
    path("", include("vigie.clients.urls")),
]

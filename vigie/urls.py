from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("compte/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("parametres/", include("vigie.firms.urls")),
    path("integrations/", include("vigie.integrations.urls")),
    path("imports/", include("vigie.imports.urls")),
    path("api/", include("vigie.api.urls")),
    path("reforme/", include("vigie.reform.urls")),
    path("dev/mail/", include("vigie.mail.urls")),
    path("equipement/", include("vigie.equipment.urls")),
    path("invitations/", include("vigie.invitations.urls")),
    path("", include("vigie.partners.urls")),
    path("", include("vigie.clients.urls")),
]

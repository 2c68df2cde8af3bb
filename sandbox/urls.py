from __future__ import annotations

from django.urls import path

from sandbox import api, insee, registers, views

urlpatterns = [
    path("api/v1/invitations", api.invitations, name="invitations"),
    path(
        "api/v1/invitations/<uuid:invitation_id>/cancel",
        api.invitation_cancel,
        name="invitation_cancel",
    ),
    path("api/v1/access-links", api.access_links, name="access_links"),
    path("_sandbox/faults", api.sandbox_faults),
    path("_sandbox/state", api.sandbox_state),
    path("_sandbox/reset", api.sandbox_reset),
    path("_sandbox/invitations/<uuid:invitation_id>/expire", api.sandbox_expire),
    path("_sandbox/accounts/<uuid:account_id>/close", api.sandbox_close),
    # The public registers (sandbox/registers.py).
    path("recherche-entreprises/search", registers.search, name="sirene_search"),
    path("afnor-directory/oauth/token", registers.directory_token, name="directory_token"),
    path(
        "afnor-directory/v1/directory-line/search",
        registers.directory_search,
        name="directory_search",
    ),
    path(
        "afnor-directory/v1/directory-line/export.csv",
        registers.directory_export,
        name="directory_export",
    ),
    path("api-sirene/3.11/siret", insee.siret_search, name="insee_siret"),
    path("_sandbox/insee/config", insee.insee_config),
    path("_sandbox/insee/state", insee.insee_state),
    path("_sandbox/registers/seed", registers.registers_seed),
    path("_sandbox/registers/faults", registers.registers_faults),
    path("_sandbox/registers/config", registers.registers_config),
    path("_sandbox/registers/reset", registers.registers_reset),
    path("_sandbox/registers/state", registers.registers_state),
    path("onboarding/<str:token>/", views.onboarding, name="onboarding"),
    path("connexion/", views.signin, name="signin"),
    path("compte/", views.account, name="account"),
    path("acces/<str:token>/", views.access, name="access"),
]

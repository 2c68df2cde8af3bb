from __future__ import annotations

from django.urls import path

from sandbox import api, views

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
    path("onboarding/<str:token>/", views.onboarding, name="onboarding"),
    path("connexion/", views.signin, name="signin"),
    path("compte/", views.account, name="account"),
    path("acces/<str:token>/", views.access, name="access"),
]

from __future__ import annotations

from django.urls import path

from vigie.integrations import views

urlpatterns = [
    path("", views.index, name="integrations"),
    path("cles/", views.api_key_create, name="api_key_create"),
    path("cles/<uuid:key_id>/revoquer/", views.api_key_revoke, name="api_key_revoke"),
    path("secrets/", views.secret_create, name="integration_secret_create"),
    path(
        "secrets/<uuid:secret_id>/revoquer/",
        views.secret_revoke,
        name="integration_secret_revoke",
    ),
    path("launch/", views.launch, name="integration_launch"),
    path("launch/confirmer/", views.launch_confirm, name="integration_launch_confirm"),
]

from __future__ import annotations

from django.urls import path

from vigie.firms import views

urlpatterns = [
    path("collaborateurs/", views.collaborators, name="collaborators"),
    path("invitations/", views.invitation_settings, name="invitation_settings"),
    path("collaborateurs/<uuid:user_id>/role/", views.collaborator_role, name="collaborator_role"),
    path(
        "collaborateurs/<uuid:user_id>/actif/",
        views.collaborator_active,
        name="collaborator_active",
    ),
]

from __future__ import annotations

from django.urls import path

from vigie.registries import connection_views, views

urlpatterns = [
    path("siret/", views.siret_lookup, name="registry_siret_lookup"),
    path("clients/<str:code>/", views.client_registers, name="client_registers"),
    path(
        "clients/<str:code>/verifier/",
        views.client_registers_check,
        name="client_registers_check",
    ),
    path("clients/<str:code>/prendre/", views.finding_take, name="registry_finding_take"),
    path("clients/<str:code>/ignorer/", views.finding_dismiss, name="registry_finding_dismiss"),
    path("annuaire/", connection_views.connection_settings, name="registries_connection"),
    path("annuaire/tester/", connection_views.connection_test, name="registries_connection_test"),
    path(
        "annuaire/supprimer/",
        connection_views.connection_delete,
        name="registries_connection_delete",
    ),
]

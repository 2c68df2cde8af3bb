from __future__ import annotations

from django.urls import path

from vigie.registries import views

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
]

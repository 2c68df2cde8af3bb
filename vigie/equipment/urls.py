from __future__ import annotations

from django.urls import path

from vigie.equipment import views

urlpatterns = [
    path("clients/<str:code>/", views.equipment_dialog, name="equipment_dialog"),
    path("clients/<str:code>/shine-statut/", views.client_shine_panel, name="client_shine_panel"),
    path("clients/<str:code>/declarer/", views.equipment_declare, name="equipment_declare"),
    path("clients/<str:code>/retirer/", views.equipment_remove, name="equipment_remove"),
    path("clients/<str:code>/siret/", views.equipment_siret, name="equipment_siret"),
    path("clients/<str:code>/contact/", views.equipment_contact, name="equipment_contact"),
    path("clients/<str:code>/alias/", views.equipment_alias, name="equipment_alias"),
    path("clients/<str:code>/shine/", views.equipment_shine, name="equipment_shine"),
    path("selection/", views.selection_dialog, name="selection_dialog"),
    path("selection/declarer/", views.selection_declare, name="selection_declare"),
    path("selection/shine/", views.selection_shine, name="selection_shine"),
]

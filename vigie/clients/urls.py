from __future__ import annotations

from django.urls import path

from vigie.clients import client_page, views
from vigie.clients.portfolio import views as portfolio

urlpatterns = [
    path("", portfolio.portfolio, name="home"),
    path("portefeuille/export.<str:fmt>", portfolio.portfolio_export, name="portfolio_export"),
    path("clients/nouveau/", views.client_create, name="client_create"),
    path("clients/<str:code>/", client_page.client_detail, name="client_detail"),
    path("clients/<str:code>/partie/<str:part>/", client_page.client_part, name="client_part"),
    path(
        "clients/<str:code>/details/",
        client_page.client_details_update,
        name="client_details_update",
    ),
    path("clients/<str:code>/notes/", client_page.client_notes_update, name="client_notes_update"),
    path("clients/<str:code>/contacts/nouveau/", client_page.contact_create, name="contact_create"),
    path(
        "clients/<str:code>/contacts/<uuid:contact_id>/",
        client_page.contact_update,
        name="contact_update",
    ),
    path(
        "clients/<str:code>/contacts/<uuid:contact_id>/principal/",
        client_page.contact_set_principal,
        name="contact_set_principal",
    ),
    path(
        "clients/<str:code>/contacts/<uuid:contact_id>/supprimer/",
        client_page.contact_delete,
        name="contact_delete",
    ),
    path("clients/<str:code>/collaborateurs/", client_page.assignment_add, name="assignment_add"),
    path(
        "clients/<str:code>/collaborateurs/<uuid:user_id>/retirer/",
        client_page.assignment_remove,
        name="assignment_remove",
    ),
]

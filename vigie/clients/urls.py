from __future__ import annotations

from django.urls import path

from vigie.clients import views

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/nouveau/", views.client_create, name="client_create"),
    path("clients/<str:code>/", views.client_detail, name="client_detail"),
]

from __future__ import annotations

from django.urls import path

from vigie.partners import views

urlpatterns = [
    path("partenaires/shine/webhooks/", views.shine_webhook, name="shine_webhook"),
    path("clients/<str:code>/shine/acces/", views.shine_access, name="shine_access"),
]

from __future__ import annotations

from django.urls import path

from vigie.exports import views

urlpatterns = [
    path("", views.export_list, name="export_list"),
    path("<uuid:public_id>/", views.export_detail, name="export_detail"),
    path("<uuid:public_id>/fichier/", views.export_download, name="export_download"),
]

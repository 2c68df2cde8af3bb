from __future__ import annotations

from django.urls import path

from vigie.imports import views

urlpatterns = [
    path("", views.upload, name="imports"),
    path("<uuid:job_id>/", views.detail, name="import_detail"),
    path("<uuid:job_id>/lancer/", views.start, name="import_start"),
    path("<uuid:job_id>/reprendre/", views.resume, name="import_resume"),
    path("<uuid:job_id>/progression/", views.progress, name="import_progress"),
    path("<uuid:job_id>/rapport.csv", views.report, name="import_report"),
    path("<uuid:job_id>/registre/", views.registry_fill_start, name="import_registry_fill"),
    path(
        "<uuid:job_id>/registre/progression/",
        views.registry_fill_progress,
        name="import_registry_progress",
    ),
    path(
        "<uuid:job_id>/registre/choix/", views.registry_fill_accept, name="import_registry_accept"
    ),
]

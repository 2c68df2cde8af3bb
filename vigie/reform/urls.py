from __future__ import annotations

from django.urls import path

from vigie.reform import penalty_views, signing_views, views

urlpatterns = [
    path("", views.reform_dashboard, name="reform_dashboard"),
    path("penalites/", penalty_views.penalty_worklist, name="reform_penalties"),
    path("modele-email/", views.reform_template, name="reform_template"),
    path("sensibiliser/", views.sensitise_selection, name="reform_sensitise_selection"),
    path(
        "registres/verifier/",
        views.registers_check_selection,
        name="reform_registers_check_selection",
    ),
    path("registres/verifier-tout/", views.registers_check_all, name="reform_registers_check_all"),
    path("clients/<str:code>/", views.client_reform, name="reform_client"),
    path(
        "clients/<str:code>/sensibiliser/", views.client_sensitise, name="reform_client_sensitise"
    ),
    path("clients/<str:code>/mandat/", views.mandate_send, name="reform_mandate_send"),
    path(
        "clients/<str:code>/mandat/brouillon/", views.mandate_prepare, name="reform_mandate_prepare"
    ),
    path(
        "clients/<str:code>/mandat/brouillon/envoyer/",
        views.mandate_draft_send,
        name="reform_mandate_draft_send",
    ),
    path(
        "clients/<str:code>/mandat/brouillon/supprimer/",
        views.mandate_draft_delete,
        name="reform_mandate_draft_delete",
    ),
    path("clients/<str:code>/mandat/signe/", views.mandate_upload, name="reform_mandate_upload"),
    path("clients/<str:code>/mandat/revoquer/", views.mandate_revoke, name="reform_mandate_revoke"),
    path(
        "clients/<str:code>/mandat/regenerer/",
        views.mandate_regenerate,
        name="reform_mandate_regenerate",
    ),
    path(
        "clients/<str:code>/mandat/telecharger/",
        views.mandate_download,
        name="reform_mandate_download",
    ),
    path(
        "clients/<str:code>/mandat/<uuid:mandate_id>/document/",
        views.mandate_document,
        name="reform_mandate_document",
    ),
    path("clients/<str:code>/pa/", views.client_pa_update, name="reform_client_pa"),
    # The mandate e-mail's link: public pages, for the client (no sign-in).
    path("mandat/<str:token>/", signing_views.mandate_sign, name="mandate_sign"),
    path(
        "mandat/<str:token>/document/",
        signing_views.mandate_sign_document,
        name="mandate_sign_document",
    ),
    path("mandat/<str:token>/ouvert/", signing_views.mandate_sign_open, name="mandate_sign_open"),
    path("mandat/<str:token>/code/", signing_views.mandate_sign_code, name="mandate_sign_code"),
    path(
        "mandat/<str:token>/verifier/",
        signing_views.mandate_sign_verify,
        name="mandate_sign_verify",
    ),
    path(
        "mandat/<str:token>/signer/", signing_views.mandate_sign_submit, name="mandate_sign_submit"
    ),
]

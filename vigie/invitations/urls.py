from __future__ import annotations

from django.urls import path

from vigie.invitations import views

urlpatterns = [
    path("modeles/", views.invitation_templates, name="invitation_templates"),
    path("compte-test/", views.test_account, name="invitation_test_account"),
    path("lots/<uuid:public_id>/", views.bulk_progress, name="bulk_progress"),
    path("i/<uuid:public_id>/envoyer/", views.invitation_send, name="invitation_send"),
    path("i/<uuid:public_id>/envoyee/", views.invitation_confirm, name="invitation_confirm"),
    path("i/<uuid:public_id>/renvoyer/", views.invitation_resend, name="invitation_resend"),
    path("i/<uuid:public_id>/annuler/", views.invitation_cancel, name="invitation_cancel"),
    path("i/<uuid:public_id>/relancer/", views.invitation_remind, name="invitation_remind"),
    path("<str:token>/", views.invitation_landing, name="invitation_landing"),
]

from __future__ import annotations

from django.urls import path

from vigie.mail import views

urlpatterns = [
    path("", views.mailbox, name="mailbox"),
    path("<str:name>/", views.mailbox_message, name="mailbox_message"),
]

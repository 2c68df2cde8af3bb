from django.apps import AppConfig


class InvitationsConfig(AppConfig):
    name = "vigie.invitations"
    label = "invitations"
    verbose_name = "Invitations"

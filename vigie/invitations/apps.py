from django.apps import AppConfig


class InvitationsConfig(AppConfig):
    name = "vigie.invitations"
    label = "invitations"
    verbose_name = "Invitations"

    def ready(self) -> None:
        # Connects the listeners: the outbox (services), contacts and the partner (receivers).
        from vigie.invitations import receivers, services  # noqa: F401

from django.apps import AppConfig


class InvitationsConfig(AppConfig):
    name = "vigie.invitations"
    label = "invitations"
    verbose_name = "Invitations"

    def ready(self) -> None:
        # Connects the outbox listener that keeps invitations in step with their email.
        from vigie.invitations import services  # noqa: F401

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.core.management import call_command
from django.db.models.signals import post_migrate


def _create_cache_table(sender, using, verbosity=1, **kwargs) -> None:
    """The `default` cache's table (settings.CACHES) after every migrate: sessions are
    read through it, so no database may be migrated without it. Does nothing when it
    exists or when the cache is Redis."""
    call_command("createcachetable", database=using, verbosity=verbosity)


class AccountsConfig(AppConfig):
    name = "vigie.accounts"
    label = "accounts"
    verbose_name = "Comptes"

    def ready(self) -> None:
        post_migrate.connect(_create_cache_table, sender=self)


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Vigie's site (vigie/accounts/admin_site.py)."""

    default = False  # not this app's own configuration: INSTALLED_APPS names it
    default_site = "vigie.accounts.admin_site.OperatorAdminSite"

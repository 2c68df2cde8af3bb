from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "vigie.accounts"
    label = "accounts"
    verbose_name = "Comptes"


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Vigie's site (vigie/accounts/admin_site.py)."""

    default = False  # not this app's own configuration: INSTALLED_APPS names it
    default_site = "vigie.accounts.admin_site.OperatorAdminSite"

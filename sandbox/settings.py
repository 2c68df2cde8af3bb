"""The sandbox partner: a small stand-alone web app playing Shine's side of the contract
(docs/partner-api.md). Its own database, its own port; it shares nothing with the console
but the HTTP contract."""

from __future__ import annotations

import os
from pathlib import Path

from vigie.lib.env import envint, envstr

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(envstr("SANDBOX_VAR_DIR", str(BASE_DIR.parent / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = False
SECRET_KEY = envstr("SANDBOX_SECRET_KEY", "sandbox-only-not-a-secret-" + "s" * 30)
ALLOWED_HOSTS = ["*"]
PORT = envint("SANDBOX_PORT", 8001, minimum=1)
SANDBOX_BASE_URL = envstr("SANDBOX_BASE_URL", f"http://localhost:{PORT}")

# The contract's shared secrets (the console holds the same values).
SANDBOX_API_KEY = envstr("SHINE_API_KEY", "sandbox-api-key")
SANDBOX_WEBHOOK_SECRET = envstr("SHINE_WEBHOOK_SECRET", "sandbox-webhook-secret")
SANDBOX_WEBHOOK_URL = envstr(
    "SANDBOX_WEBHOOK_URL",
    f"http://localhost:{os.environ.get('PORT', '8000')}/partenaires/shine/webhooks/",
)

# The public registers (sandbox/registers.py): the company register's published limit
# (7 requests per second per IP) and the directory's bearer token and limit.
SANDBOX_SIRENE_RATE = envint("SANDBOX_SIRENE_RATE", 7, minimum=0)
SANDBOX_ANNUAIRE_RATE = envint("SANDBOX_ANNUAIRE_RATE", 10, minimum=0)
SANDBOX_ANNUAIRE_KEY = envstr("ANNUAIRE_API_KEY", "sandbox-annuaire-key")
# INSEE's API Sirene (sandbox/insee.py): its key and its limit, per minute.
SANDBOX_INSEE_KEY = envstr("INSEE_API_KEY", "sandbox-insee-key")
SANDBOX_INSEE_RATE = envint("SANDBOX_INSEE_RATE", 30, minimum=0)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "sandbox",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "sandbox.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": envstr("SANDBOX_DB", str(VAR_DIR / "sandbox.sqlite3")),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

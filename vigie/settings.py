"""Vigie settings: one file, read from the environment (see README "Configuration")."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from vigie.lib import embedded_pg
from vigie.lib.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VIGIE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)
PORT = envint("PORT", 8000, minimum=1)


def _secret_key() -> str:
    key = envstr("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    # Local runs: generated once, kept under var/ so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Django's test runner adds testserver itself.
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = envstr("SITE_URL", f"http://localhost:{PORT}")
# Django's admin at /admin/: for the people who run Vigie (superusers, through allauth's
# sign-in and its second factor); firms manage their collaborators in the console.
ADMIN_ENABLED = envbool("ADMIN_ENABLED", DEBUG)

INSTALLED_APPS = [
    "vigie.accounts.apps.AdminConfig",  # django.contrib.admin, superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "ninja",  # serves the API docs page's assets locally
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "pgtrigger",
    "vigie.accounts",
    "vigie.firms",
    "vigie.clients",
    "vigie.equipment",
    "vigie.invitations",
    "vigie.integrations",
    "vigie.imports",
    "vigie.api",
    "vigie.partners",
    "vigie.mail",
    "vigie.reform",
    "vigie.registries",
    "vigie.exports",
    "vigie.campaigns",
    "vigie.demo",  # the demo portfolio (`vigie demo`), on top of every app
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vigie.lib.storable.StorableInputMiddleware",  # a 400 for NUL in a URL or a form
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "vigie.lib.htmx.VaryOnHtmxMiddleware",  # a page and its fragment share a URL
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "vigie.firms.middleware.FirmMiddleware",
]

ROOT_URLCONF = "vigie.urls"
WSGI_APPLICATION = "vigie.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vigie.firms.context_processors.firm",
            ],
        },
    },
    # One fragment only, the portfolio's row (templates/jinja2/clients/portfolio_row.html):
    # rendered on each miss of the rows cache, where Django's engine cost several
    # milliseconds a page (docs/SIMPLIFY.md). Autoescaped, as Django's templates are.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": True},
    },
]


def _databases() -> dict:
    url = envstr("DATABASE_URL")
    if not url:
        # The embedded PostgreSQL under var/postgres: `make run`, `make test` and `make db`
        # start it; settings only read where it listens, so importing them starts nothing.
        url = embedded_pg.running_url()
        if url is None:
            raise ImproperlyConfigured(
                "DATABASE_URL is unset and the embedded PostgreSQL (var/postgres) is not "
                "running: start it with `make db` (make run and make test start it "
                "themselves), or set DATABASE_URL."
            )
    try:
        config = dj_database_url.parse(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.postgresql":
        # JIT adds hundreds of ms to short portfolio queries (PERFORMANCE.md §5).
        config.setdefault("OPTIONS", {})["options"] = "-c jit=off"
        # A connection the server has closed (a restart, a failover) is replaced before
        # it is used: checked when taken from the pool, or by Django's `SELECT 1`.
        config["CONN_HEALTH_CHECKS"] = True
        if envstr("DB_POOLER") == "pgbouncer":
            # PgBouncer in transaction mode hands a server connection to another client
            # between transactions: no server-side cursors, no prepared statements, and
            # no startup options (set jit=off on the database instead, docs/DEPLOY.md).
            # It is the pool: each thread keeps its connection to it.
            config["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", 60, minimum=0)
            config["DISABLE_SERVER_SIDE_CURSORS"] = True
            config["OPTIONS"]["prepare_threshold"] = None
            del config["OPTIONS"]["options"]
        else:
            # psycopg's pool, one per process: a request borrows a connection and gives
            # it back (CONN_MAX_AGE 0, as the pool requires). One stays open; threads
            # that need more open them, up to DB_POOL_SIZE.
            size = envint("DB_POOL_SIZE", 4, minimum=1)
            config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": size}
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["vigie.accounts.backends.AuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: email sign-in, no public sign-up, TOTP, rate limits.
ACCOUNT_ADAPTER = "vigie.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
# One address per account, the one the firm's admin set: allauth's e-mail pages are
# closed (vigie/accounts/urls.py), and allauth refuses a second address anywhere else.
ACCOUNT_MAX_EMAIL_ADDRESSES = 1
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Failed sign-ins: 10 a minute per IP, and 5 in 5 minutes per address *and* IP — the
# key is the address with the IP (AccountAdapter._get_login_attempts_cache_key), so a
# stranger's wrong passwords lock the collaborator out of the stranger's IP only, not
# of every IP. The price: each IP gets its own 5 tries per account; TOTP and the
# password validators stand behind it. IPv6 counts by /64 (allauth's default).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Vigie"

# Every cache, its keys and what renews them: docs/CACHING.md.
REDIS_URL = envstr("REDIS_URL")
# Portfolio rows each process keeps rendered (vigie.clients.portfolio.rowcache), about
# 1.5 kB each, without Redis; 0 renders every row on every page.
PORTFOLIO_ROW_CACHE = envint("PORTFOLIO_ROW_CACHE", 20_000, minimum=0)


def _rendered_cache(name: str, *, entries: int, redis_timeout: int) -> dict:
    """A cache of rendered portfolio HTML (rows, pages), keyed by versions so that an
    entry is never stale, only unread: shared in Redis when there is one (an entry
    unread for `redis_timeout` s goes, and Redis's maxmemory policy before that,
    docs/CACHING.md), else each process its own `entries` (the least recently read third
    goes when full); none at all when PORTFOLIO_ROW_CACHE=0."""
    if not PORTFOLIO_ROW_CACHE:
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    if REDIS_URL:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": name,
            "TIMEOUT": redis_timeout,
        }
    return {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": name,
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": entries},
    }


def _default_cache() -> dict:
    """Shared by every process: rate limits and sessions."""
    if REDIS_URL:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "vigie",
        }
    return {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "vigie_cache",
        # A session an entry (each expires with its session): beyond, the oldest go and
        # their sessions are read from their own table again.
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    }


CACHES = {
    "default": _default_cache(),
    "rows": _rendered_cache("rows", entries=PORTFOLIO_ROW_CACHE, redis_timeout=7 * 24 * 3600),
    # Each page's table and pager, rendered, keyed by its rows' versions (rowcache.py):
    # up to 150 kB each (100 rows), so fewer than the rows.
    "pages": _rendered_cache(
        "pages", entries=max(1, PORTFOLIO_ROW_CACHE // 40), redis_timeout=24 * 3600
    ),
    # Each firm's collaborators and catalogue, keyed by its directory version: small,
    # read on every portfolio page, so each process keeps its own.
    "lookups": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "lookups",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 2_000},
    },
}
# Sessions in the database, read through the `default` cache, which every process shares
# (its table, or Redis): a sign-out in one process ends the session in every other. Read
# from the cache table, a session costs a quarter of its ORM read (docs/CACHING.md).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

TASKS = {
    "default": {
        "BACKEND": envstr("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        # "registers": the register checks, which wait on the registers' rate for minutes;
        # "exports": the portfolio's large exports, minutes of work each. Each is served
        # by workers of its own (vigie/registries/tasks.py, vigie/exports/tasks.py).
        "QUEUES": ["default", "registers", "exports"],
    }
}
# Longer than any task runs (an import of 100,000 rows): a record still RUNNING after
# that lost its worker, and the sweeper closes it (vigie.lib.task_records).
TASK_MAX_RUNTIME = envint("TASK_MAX_RUNTIME", 3600, minimum=60)
# The portfolio's exports (vigie.exports): up to this many rows the download is made in
# the request; above, the worker prepares the file (a firm of 100,000: 20 s of CSV, 160 s
# of XLSX, past gunicorn's timeout), kept EXPORT_KEEP_HOURS, its worker's lease renewed
# as it writes (a dead worker's export is taken over once its lease has run out).
EXPORT_INLINE_MAX_ROWS = envint("EXPORT_INLINE_MAX_ROWS", 5000, minimum=0)
EXPORT_KEEP_HOURS = envint("EXPORT_KEEP_HOURS", 24, minimum=1)
EXPORT_LEASE_SECONDS = envint("EXPORT_LEASE_SECONDS", 120, minimum=10)
# How long the API replays a response for the same Idempotency-Key (docs/api.md).
IDEMPOTENCY_RETENTION_DAYS = envint("IDEMPOTENCY_RETENTION_DAYS", 7, minimum=1)


def _email_settings() -> dict:
    """EMAIL_URL: smtp://user:pass@host:port (smtp+tls / smtps for TLS / SSL).

    Unset: mail goes to a local mailbox under var/mail, read at /dev/mail/ when DEBUG is on
    (a collaborator reads their firm's outbox and the mail sent to them).
    """
    url = envstr("EMAIL_URL")
    if not url:
        return {
            "EMAIL_BACKEND": "vigie.mail.backends.MailboxBackend",
            "EMAIL_FILE_PATH": VAR_DIR / "mail",
        }
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtp+tls", "smtps"} or not parts.hostname:
        raise ImproperlyConfigured(f"EMAIL_URL must be smtp://host:port, got {url!r}")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": envint("EMAIL_TIMEOUT", 10, minimum=1),
    }


globals().update(_email_settings())
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Vigie <no-reply@vigie.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
COLLECT_EMAIL_DOMAIN = envstr("COLLECT_EMAIL_DOMAIN", "collecte.vigie.localhost")

# The invoicing partner (docs/partner-api.md). Defaults point at the sandbox of `make run`.
SANDBOX_PORT = envint("SANDBOX_PORT", 8001, minimum=1)
SHINE_API_URL = envstr("SHINE_API_URL", f"http://localhost:{SANDBOX_PORT}")
SHINE_API_KEY = envstr("SHINE_API_KEY", "sandbox-api-key" if DEBUG else "")
SHINE_WEBHOOK_SECRET = envstr("SHINE_WEBHOOK_SECRET", "sandbox-webhook-secret" if DEBUG else "")
if not (SHINE_API_KEY and SHINE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "SHINE_API_KEY and SHINE_WEBHOOK_SECRET are required when DEBUG is off."
    )
# Where a client signs in to Shine (the invitation link, once the account is active);
# unset: the partner's /connexion/ page (docs/partner-api.md).
SHINE_SIGNIN_URL = envstr("SHINE_SIGNIN_URL", "")
SHINE_TIMEOUT = envint("SHINE_TIMEOUT", 5, minimum=1)
SHINE_RETRIES = envint("SHINE_RETRIES", 2, minimum=0)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if envbool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = DEBUG or not STORAGES["staticfiles"]["BACKEND"].startswith("whitenoise")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


# Content-Security-Policy (django-csp 4): scripts only from our own static files (htmx is
# vendored), no plugins, never framed. Inline style attributes stay allowed (a few
# templates size bars with them, and htmx injects its indicator style).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # Forms post to us; the partner's origin too, where « Accéder à Shine » (a form)
        # is redirected: browsers check form-action on a form's redirects.
        "form-action": ["'self'", _origin(SHINE_API_URL)],
        "frame-ancestors": ["'none'"],
    }
}
BEHIND_PROXY = envbool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# allauth's rate limits count by IP. Behind the load balancer REMOTE_ADDR is the
# balancer's, one IP for everyone: the client's is the last X-Forwarded-For entry, which
# the balancer must append (one that passed the client's header on would let it choose).
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if BEHIND_PROXY else 0

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Public registers (vigie.registries, docs/registries.md) ----------------------------
# The company register (API Recherche d'entreprises) and a platform's e-invoicing directory
# (AFNOR XP Z12-013); `make run` points both at the sandbox, like SHINE_API_URL.
SIRENE_API_URL = envstr("SIRENE_API_URL", f"http://localhost:{SANDBOX_PORT}/recherche-entreprises")
SIRENE_RATE = envint("SIRENE_RATE", 7, minimum=1)  # requests per second, for all processes
SIRENE_TIMEOUT = envint("SIRENE_TIMEOUT", 5, minimum=1)
# Addresses users give the server to call (a firm's platform) may lead into its own
# network only in development (vigie/lib/netguard.py).
OUTBOUND_PRIVATE_HOSTS = envbool("OUTBOUND_PRIVATE_HOSTS", DEBUG)
# The company register read from INSEE's API Sirene instead, with a key: many SIRETs per
# call (vigie/registries/insee.py; docs/registries.md).
SIRENE_SOURCE = envstr("SIRENE_SOURCE", "recherche")
if SIRENE_SOURCE not in ("recherche", "insee"):
    raise ImproperlyConfigured(f"SIRENE_SOURCE must be recherche or insee, got {SIRENE_SOURCE!r}")
INSEE_API_URL = envstr("INSEE_API_URL", f"http://localhost:{SANDBOX_PORT}/api-sirene/3.11")
INSEE_API_KEY = envstr("INSEE_API_KEY", "sandbox-insee-key" if DEBUG else "")
INSEE_RATE_PER_MINUTE = envint("INSEE_RATE_PER_MINUTE", 30, minimum=1)  # the public plan's
ANNUAIRE_API_URL = envstr("ANNUAIRE_API_URL", f"http://localhost:{SANDBOX_PORT}/afnor-directory")
ANNUAIRE_API_KEY = envstr("ANNUAIRE_API_KEY", "sandbox-annuaire-key" if DEBUG else "")
ANNUAIRE_RATE = envint("ANNUAIRE_RATE", 10, minimum=1)
ANNUAIRE_TIMEOUT = envint("ANNUAIRE_TIMEOUT", 10, minimum=1)
# A run with at least this many clients reads the directory from its CSV export (one call)
# instead of one search per SIREN; 0: never.
ANNUAIRE_EXPORT_FROM = envint("ANNUAIRE_EXPORT_FROM", 500, minimum=0)
# In-call retries of a timeout, 5xx or garbage answer; then the client waits for its next
# attempt (REGISTRY_RETRY_DELAYS, seconds) and after REGISTRY_ATTEMPTS is « non vérifié ».
REGISTRY_RETRIES = envint("REGISTRY_RETRIES", 2, minimum=0)
REGISTRY_ATTEMPTS = envint("REGISTRY_ATTEMPTS", 3, minimum=1)
REGISTRY_RETRY_DELAYS = [int(s) for s in envlist("REGISTRY_RETRY_DELAYS", ["60", "600"])]
# How long a worker holds the clients it is checking: a killed worker's are taken over after.
REGISTRY_LEASE_SECONDS = envint("REGISTRY_LEASE_SECONDS", 300, minimum=1)
# The nightly check (vigie.registries.nightly, started by `vigie sweep`): once a night per
# firm, from this hour (Europe/Paris) on; clients checked within the last
# REGISTRY_NIGHTLY_UNCHANGED_DAYS days whose checked fields did not change are left out.
REGISTRY_NIGHTLY_HOUR = envint("REGISTRY_NIGHTLY_HOUR", 2, minimum=0)
if REGISTRY_NIGHTLY_HOUR > 23:
    raise ImproperlyConfigured(f"REGISTRY_NIGHTLY_HOUR must be <= 23, got {REGISTRY_NIGHTLY_HOUR}")
REGISTRY_NIGHTLY_UNCHANGED_DAYS = envint("REGISTRY_NIGHTLY_UNCHANGED_DAYS", 7, minimum=0)

# --- Mandates signed online (vigie.reform.signing, docs/mandates.md) ----------------------
# How long the link of a mandate e-mail lets the client sign it.
MANDATE_LINK_DAYS = envint("MANDATE_LINK_DAYS", 30, minimum=1)
# The certificate that seals the signed mandates (a PKCS#12 file: key, certificate, chain)
# and its password. Unset: a self-signed certificate generated once under var/ (the demo
# and the tests; a reader's PDF software will not trust it).
MANDATE_SEAL_PKCS12 = envstr("MANDATE_SEAL_PKCS12", "")
MANDATE_SEAL_PASSWORD = envstr("MANDATE_SEAL_PASSWORD", "")

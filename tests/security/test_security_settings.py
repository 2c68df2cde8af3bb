"""Production settings: `check --deploy` is clean, and every page carries the security
headers (CSP without inline scripts, referrer, nosniff, frame denial)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path, **extra) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VIGIE_VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "vigie.example.fr",
        "SITE_URL": "https://vigie.example.fr",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
        "SHINE_API_KEY": secrets.token_urlsafe(24),
        "SHINE_WEBHOOK_SECRET": secrets.token_urlsafe(24),
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    env.update(extra)
    return env


def test_check_deploy_is_clean_in_production(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_cookies_and_transport_are_secure(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SECURE_HSTS_PRELOAD)"
    )
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="vigie.settings")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "31536000"] + [
        "True",
        "True",
    ], result.stderr


def test_check_deploy_warns_without_the_production_environment(tmp_path):
    """The check is not vacuous: HSTS and the SSL redirect left off are reported."""
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


PAGES = [
    ("account_login", False),
    ("home", True),
    ("client_detail", True),
    ("reform_dashboard", True),
    ("integrations", True),
]


@pytest.mark.parametrize(("name", "signed_in"), PAGES)
def test_pages_carry_the_security_headers(name, signed_in, client, alice, client_a):
    if signed_in:
        client.force_login(alice)
    url = reverse(name, args=[client_a.code]) if name == "client_detail" else reverse(name)
    response = client.get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in csp.split(";") if part.strip()
    )
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"][0] == "'self'"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # The page's own scripts are all files of ours.
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def test_our_templates_have_no_inline_script():
    """The CSP refuses them: a template with one would silently stop working."""
    offenders = []
    for folder in django_settings.TEMPLATES[0]["DIRS"]:
        for path in Path(folder).rglob("*.html"):
            text = path.read_text()
            if path.parts[-2] == "emails" or "/email/" in str(path):
                continue  # emails are read in mail apps, not under our CSP
            for pattern in (INLINE_HANDLER, INLINE_SCRIPT, re.compile("javascript:", re.I)):
                offenders += [f"{path.name}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not offenders


def test_no_page_is_served_over_plain_http_in_production(tmp_path):
    """With SECURE_SSL_REDIRECT, plain HTTP is redirected to HTTPS with HSTS on HTTPS."""
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "c = Client();"
        "r = c.get('/compte/login/', HTTP_HOST='vigie.example.fr');"
        "print(r.status_code, r['Location']);"
        "r = c.get('/compte/login/', HTTP_HOST='vigie.example.fr', secure=True);"
        "print(r['Strict-Transport-Security'])"
    )
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="vigie.settings", STATIC_MANIFEST="0")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "301 https://vigie.example.fr/compte/login/", result.stderr
    assert lines[1] == "max-age=31536000; includeSubDomains; preload"


def _production_settings(tmp_path, code: str, **extra) -> str:
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="vigie.settings", **extra)
    for name, value in extra.items():
        if value is None:
            env.pop(name)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_it_leaves_testserver_out_of_the_production_hosts(tmp_path):
    """Django's test runner adds it for tests; a deployment never needs it."""
    code = "from django.conf import settings; print(' '.join(settings.ALLOWED_HOSTS))"
    hosts = _production_settings(tmp_path, code, ALLOWED_HOSTS=None).split()
    assert hosts == ["localhost", "127.0.0.1", "[::1]"]


def test_it_lets_forms_post_to_us_and_the_partner_only(tmp_path):
    code = "from csp.utils import build_policy; print(build_policy())"
    policy = _production_settings(tmp_path, code, SHINE_API_URL="https://api.shine.example/v1")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    # The partner's origin: « Accéder à Shine » is a form redirected there.
    assert directives["form-action"] == ["'self'", "https://api.shine.example"]


def test_it_counts_the_client_ip_behind_the_load_balancer(tmp_path):
    code = "from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    assert _production_settings(tmp_path, code, BEHIND_PROXY="1") == "1"
    assert _production_settings(tmp_path, code) == "0"

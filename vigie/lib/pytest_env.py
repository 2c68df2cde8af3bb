"""Loaded by pytest before Django's settings: the environment tests run in.

Tests use a throw-away secret and never need one in the environment; everything
else (DATABASE_URL above all) comes from the caller.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret-" + "x" * 40)
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")  # no collectstatic before tests
os.environ.setdefault("SHINE_API_KEY", "sandbox-api-key")
os.environ.setdefault("SHINE_WEBHOOK_SECRET", "sandbox-webhook-secret")
os.environ.setdefault("SHINE_RETRIES", "0")  # tests that want retries ask for them
# No partner unless a test starts the sandbox (port 9 is closed): never a developer's own.
os.environ.setdefault("SHINE_API_URL", "http://127.0.0.1:9")

"""Absolute addresses of this installation, for what leaves it (e-mails, PDFs)."""

from __future__ import annotations

from django.conf import settings


def site_url(path: str) -> str:
    """`path` (from `reverse`) as an absolute URL under SITE_URL."""
    return settings.SITE_URL.rstrip("/") + path

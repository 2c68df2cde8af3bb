"""Text keys for sorting and searching: accents and case ignored."""

from __future__ import annotations

import unicodedata


def fold(value: str) -> str:
    """`Frères ÉCKHOUT` → `freres eckhout`: no accents, lower case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())

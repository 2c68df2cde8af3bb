"""Text keys for sorting and searching (accents, ligatures and case ignored), and a count
written out for a message."""

from __future__ import annotations

import unicodedata

# Letters Unicode does not decompose but a French reader types as two: « Œuf » is
# searched as « oeuf », « Lætitia » as « laetitia », « Straße » as « strasse ».
LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ẞ": "ss"}


class _Folding(dict):
    """A `str.translate` table: the ligatures spelt out, what `unicodedata.combining`
    flags deleted, every other code point kept; filled lazily one code point at a time."""

    def __missing__(self, code: int) -> str | int | None:
        char = chr(code)
        value = LIGATURES.get(char) or (None if unicodedata.combining(char) else code)
        self[code] = value
        return value


_FOLDING = _Folding()


def fold(value: str) -> str:
    """`Frères ÉCKHOUT, l'Œuf` → `freres eckhout, l'oeuf`: no accents, ligatures spelt
    out, lower case, single spaces. One `str.translate` rather than a Python loop over
    every character: imports fold every row (vigie.clients.services)."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    if not decomposed.isascii():
        decomposed = decomposed.translate(_FOLDING)
    return " ".join(decomposed.lower().split())


def counted(count: int, noun: str) -> str:
    """« 1 client », « 3 clients »: the count with its noun, `s` added but for one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

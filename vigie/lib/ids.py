"""Identifiers of rows that a whole installation inserts by the million.

A random UUID (version 4) as the key of a unique index sends every insert to a random
leaf page: once the index outgrows memory, each new client or contact reads a page and,
after every checkpoint, writes it whole to the WAL (full-page writes). The cost of an
insert then follows the size of the whole database, not the firm's work. A time-ordered
UUID (version 7, RFC 9562) puts new keys together at one end of the index, as a
sequence would, and keeps 74 random bits: it is no easier to guess. docs/SCALE.md has
the figures.
"""

from __future__ import annotations

import secrets
import time
import uuid


def uuid7() -> uuid.UUID:
    """RFC 9562's version 7: 48 bits of Unix time in milliseconds, the version, 12
    random bits, the variant, 62 random bits (Python 3.14's `uuid.uuid7` once we run
    on it)."""
    ms = time.time_ns() // 1_000_000
    value = (
        (ms & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | secrets.randbits(12) << 64
        | 0b10 << 62
        | secrets.randbits(62)
    )
    return uuid.UUID(int=value)

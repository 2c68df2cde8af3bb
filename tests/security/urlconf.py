"""Walk the URLconf: every route, its full pattern, its name and its parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


@dataclass(frozen=True)
class Route:
    pattern: str  # full pattern, as written in the URLconfs
    name: str | None
    callback: object

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(a or b for a, b in PARAM.findall(self.pattern))

    @property
    def key(self) -> str:
        return self.name or self.pattern


def routes(patterns=None, prefix: str = "", namespace: str = "") -> list[Route]:
    if patterns is None:
        patterns = get_resolver().url_patterns
    found = []
    for entry in patterns:
        text = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += routes(entry.url_patterns, prefix + text, ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            found.append(Route(prefix + text, name, entry.callback))
    return found

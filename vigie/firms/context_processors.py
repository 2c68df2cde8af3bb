from __future__ import annotations


def firm(request) -> dict:
    return {
        "firm": getattr(request, "firm", None),
        "membership": getattr(request, "membership", None),
    }

"""The web process's entry point (gunicorn vigie.wsgi)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_web_process_tunes_its_garbage_collector():
    # In a process of its own: freezing would change the test process's collector.
    code = (
        "import gc, json, vigie.wsgi as w; "
        "print(json.dumps([gc.get_threshold(), list(w.GC_THRESHOLDS), gc.get_freeze_count()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    threshold, wanted, frozen = json.loads(out.strip().splitlines()[-1])
    assert threshold == wanted == [10_000, 10, 10]
    assert frozen > 10_000  # Django and the app, loaded before freezing

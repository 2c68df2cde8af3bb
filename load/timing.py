"""gunicorn hooks for the load test (`gunicorn -c load/timing.py`): each request's method,
URL, status, server time in microseconds and start (seconds of the system's monotonic
clock, the same in every worker), one line each, appended to the file named by
VIGIE_LOAD_TIMING.

They replace gunicorn's access log, whose formatting (a dictionary of every atom for each
request) took ~3.7 % of the workers' CPU under load, more than the application's CSP
header; the deployment recipe (docs/DEPLOY.md) runs gunicorn without an access log, the
load balancer in front keeping one. The time covers what the access log's `%(D)s` did,
from the request parsed to the response written.
"""

from __future__ import annotations

import os
import time

_FILE = os.environ.get("VIGIE_LOAD_TIMING", "")
_fd: int | None = None


def pre_request(worker, req) -> None:
    req.vigie_started = time.monotonic()


def post_request(worker, req, environ, resp) -> None:
    global _fd
    if _fd is None:
        _fd = os.open(_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    micros = int((time.monotonic() - req.vigie_started) * 1e6)
    query = f"?{req.query}" if req.query else "?"
    # One write per line, O_APPEND: the workers' lines never interleave.
    line = f"{req.method} {req.path}{query} {resp.status_code} {micros} {req.vigie_started:.3f}\n"
    os.write(_fd, line.encode())

"""`make run`: the console (gunicorn) and the task worker together, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PYTHON = sys.executable


def main() -> int:
    port = os.environ.get("PORT", "8000")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vigie.settings"}
    env.setdefault("DEBUG", "1")
    env.setdefault("SITE_URL", f"http://localhost:{port}")
    procs = {
        "web": subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "vigie.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--log-level",
                "warning",
            ],
            env=env,
        ),
        "worker": subprocess.Popen(
            [PYTHON, "-m", "vigie", "db_worker", "--interval", "0.5"], env=env
        ),
    }
    print(
        f"\n  Vigie is running: http://localhost:{port}/\n"
        "  Sign in as demo@cabinet-demo.fr (Cabinet Démonstration) "
        "or temoin@cabinet-temoin.fr (Cabinet Témoin), password: demo-vigie\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping.", file=sys.stderr)
                stopping, code = True, 1
        time.sleep(0.3)
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())

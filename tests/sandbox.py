"""The sandbox partner as a real HTTP server for tests: its own process and database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

API_KEY = "sandbox-api-key"
WEBHOOK_SECRET = "sandbox-webhook-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxServer:
    def __init__(self, var_dir: Path, webhook_url: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sandbox.settings",
            "SANDBOX_DB": str(var_dir / "sandbox.sqlite3"),
            "SANDBOX_VAR_DIR": str(var_dir),
            "SANDBOX_BASE_URL": self.url,
            "SANDBOX_WEBHOOK_URL": webhook_url,
            "SHINE_API_KEY": API_KEY,
            "SHINE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> SandboxServer:
        subprocess.run(
            [sys.executable, "-m", "sandbox", "migrate", "-v", "0"], env=self.env, check=True
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "sandbox.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--log-level",
                "warning",
            ],
            env=self.env,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the sandbox partner did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # a request held by a "timeout" fault
                self.process.kill()
                self.process.wait()

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        self.call("POST", "/_sandbox/reset", {})

    def state(self) -> dict:
        return self.call("GET", "/_sandbox/state")

    def fault(self, mode: str, count: int = 1) -> None:
        self.call("POST", "/_sandbox/faults", {"mode": mode, "count": count})

    def deliver_webhooks(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "sandbox", "sandbox_webhooks", "--once"],
            env=self.env,
            check=True,
        )

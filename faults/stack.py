"""The pieces a fault drill runs: its own PostgreSQL database, an SMTP server, the sandbox
partner, and supervised worker / sweeper processes (restarted when they die, as systemd
or Kubernetes would). Every process started here is tracked by PID and stopped here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("FAULTS_PG_ADMIN_URL", "postgres://root@127.0.0.1:5432/postgres")
PG_CLUSTER = ("15", "main")


def pg_url(name: str, port: int = 5432) -> str:
    return f"postgres://root@127.0.0.1:{port}/{name}"


def recreate_database(name: str) -> None:
    """Drop and create `name` — only ever one of the drill's own databases."""
    import psycopg

    assert name.startswith("vigie_faults") or name.startswith("vigie_load"), name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def wait_until(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 - the database may be away for a moment
            _reset_db()
        time.sleep(step)
    return False


def _reset_db() -> None:
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001
        pass


class Supervised:
    """One long-running command, restarted after it exits (unless stopped or paused)."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.kills = 0
        self.paused = False
        self.started_at = 0.0

    def start(self) -> None:
        self.started_at = time.monotonic()
        handle = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT
        )
        handle.close()

    def poll(self) -> None:
        if self.paused or self.proc is None:
            return
        if self.proc.poll() is not None and time.monotonic() - self.started_at > 1:
            self.restarts += 1
            self.start()

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything (a crash, the OOM killer, a lost node)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.kills += 1

    def stop(self) -> None:
        self.paused = True
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Stack:
    """PostgreSQL database + SMTP sink + sandbox + N workers + one sweeper."""

    def __init__(self, *, db_name: str = "vigie_faults", workers: int = 1, db_port: int = 5432):
        self.db_name = db_name
        self.db_url = pg_url(db_name)
        self.app_db_url = pg_url(db_name, db_port)  # what the processes use (PgBouncer)
        self.tmp = Path(tempfile.mkdtemp(prefix="vigie-faults-"))
        self.n_workers = workers
        self.procs: list[Supervised] = []
        self.sink = None
        self.sandbox = None
        self.extra_env: dict[str, str] = {}

    # -- set-up -------------------------------------------------------------------------

    def env(self, **extra) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "faults.settings",
            "DATABASE_URL": self.app_db_url,
            "VIGIE_VAR_DIR": str(self.tmp / "var"),
            "SECRET_KEY": "faults-only-" + "k" * 40,
            "DEBUG": "0",
            "STATIC_MANIFEST": "0",
            "EMAIL_URL": self.sink.url if self.sink else "smtp://127.0.0.1:1",
            "EMAIL_TIMEOUT": "5",
            "SHINE_API_URL": self.sandbox.url if self.sandbox else "http://127.0.0.1:1",
            "SHINE_API_KEY": "sandbox-api-key",
            "SHINE_WEBHOOK_SECRET": "sandbox-webhook-secret",
            "SHINE_TIMEOUT": "4",
            "SHINE_RETRIES": "0",
            "SITE_URL": "http://127.0.0.1:8000",
            "PYTHONPATH": str(ROOT),
            **self.extra_env,
            **extra,
        }
        env.pop("VIGIE_TEST_SQLITE_NAME", None)
        return env

    def start(self, *, create_db: bool = True) -> Stack:
        from tests.sandbox import SandboxServer
        from vigie.mail.testing import SMTPSink

        if create_db:
            recreate_database(self.db_name)
        self.sink = SMTPSink().start()
        self.sandbox = SandboxServer(self.tmp, "http://127.0.0.1:9/unused/")
        self.sandbox.start()
        os.environ.update({k: v for k, v in self.env().items() if k not in ("PYTHONPATH",)})
        os.environ["DATABASE_URL"] = self.db_url  # the drill itself checks the primary
        for command in (["migrate", "--no-input", "-v", "0"], ["createcachetable"]):
            subprocess.run(
                [sys.executable, "-m", "vigie", *command],
                env=self.env(DATABASE_URL=self.db_url),
                cwd=ROOT,
                check=True,
                timeout=300,
            )
        import django

        django.setup()
        for n in range(self.n_workers):
            self.add(f"worker{n + 1}", ["db_worker", "--interval", "0.1", "--no-startup-delay"])
        self.add("sweep", ["sweep", "--every", "2"])
        return self

    def add(self, name: str, args: list[str], env: dict | None = None) -> Supervised:
        proc = Supervised(
            name,
            [sys.executable, "-m", "vigie", *args] if args[0] != "-m" else [sys.executable, *args],
            env or self.env(),
            self.tmp / f"{name}.log",
        )
        proc.start()
        self.procs.append(proc)
        return proc

    @property
    def workers(self) -> list[Supervised]:
        return [p for p in self.procs if p.name.startswith("worker")]

    def supervise(self) -> None:
        for proc in self.procs:
            proc.poll()

    def wait(self, predicate, timeout: float, step: float = 0.3) -> bool:
        """Wait for `predicate`, restarting dead processes meanwhile (bounded)."""

        def check():
            self.supervise()
            return predicate()

        return wait_until(check, timeout, step)

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()
        if self.sandbox:
            self.sandbox.stop()
        if self.sink:
            self.sink.stop()
        _reset_db()

    # -- what happened --------------------------------------------------------------------

    def sandbox_invitations(self, firm_public_id: str) -> tuple[int, int, int]:
        """(invitations, distinct external ids, accounts) of one firm in the sandbox's
        own database."""
        import sqlite3

        with sqlite3.connect(self.tmp / "sandbox.sqlite3", timeout=10) as db:
            total, distinct = db.execute(
                "SELECT count(*), count(DISTINCT external_id) FROM sandbox_partnerinvitation "
                "WHERE firm_id = ?",
                [firm_public_id],
            ).fetchone()
            accounts = db.execute(
                "SELECT count(*) - count(DISTINCT a.invitation_id) FROM sandbox_account a "
                "JOIN sandbox_partnerinvitation i ON i.id = a.invitation_id WHERE i.firm_id = ?",
                [firm_public_id],
            ).fetchone()[0]
        return total, distinct, accounts

    def sandbox_faults_left(self) -> int:
        import sqlite3

        with sqlite3.connect(self.tmp / "sandbox.sqlite3", timeout=10) as db:
            row = db.execute("SELECT coalesce(sum(remaining), 0) FROM sandbox_fault").fetchone()
        return row[0]

    def received(self) -> dict[str, int]:
        """Message-ID → how many times the SMTP server accepted it."""
        counts: dict[str, int] = {}
        for message in self.sink.messages:
            counts[message["Message-ID"]] = counts.get(message["Message-ID"], 0) + 1
        return counts


def pg_stop_start(outage: float) -> float:
    """Stop the machine's PostgreSQL cluster and ALWAYS start it again. Returns the outage."""
    version, cluster = PG_CLUSTER
    started = time.monotonic()
    try:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "stop"],
            check=True,
            timeout=20,
        )
        time.sleep(outage)
    finally:
        for _ in range(3):
            done = subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "start"],
                timeout=30,
            )
            if done.returncode == 0 or _pg_up():
                break
            time.sleep(1)
    return time.monotonic() - started


def _pg_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], timeout=10).returncode == 0

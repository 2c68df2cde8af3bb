"""`make run`: the database, the demo, then the console (gunicorn), the task worker and the
sandbox partner together, until Ctrl-C.

Without DATABASE_URL, the embedded PostgreSQL under var/postgres: started unless it is
already up, and stopped on the way out only if started here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from vigie.lib import embedded_pg

PYTHON = sys.executable


def main() -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # like Ctrl-C until serving
    started = False
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"], started = embedded_pg.ensure_running()
    try:
        return serve()
    except KeyboardInterrupt:  # Ctrl-C while migrating or building the demo
        return 130
    finally:
        if started:
            embedded_pg.stop()
            print("Embedded PostgreSQL stopped.", flush=True)


def serve() -> int:
    port = os.environ.get("PORT", "8000")
    sandbox_port = os.environ.get("SANDBOX_PORT", "8001")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vigie.settings"}
    env.setdefault("DEBUG", "1")
    env.setdefault("SITE_URL", f"http://localhost:{port}")
    env.setdefault("SHINE_API_URL", f"http://localhost:{sandbox_port}")
    # The public registers, played by the same sandbox (docs/registries.md).
    env.setdefault("SIRENE_API_URL", f"http://localhost:{sandbox_port}/recherche-entreprises")
    env.setdefault("ANNUAIRE_API_URL", f"http://localhost:{sandbox_port}/afnor-directory")
    sandbox_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "sandbox.settings",
        "SANDBOX_BASE_URL": f"http://localhost:{sandbox_port}",
        "SANDBOX_WEBHOOK_URL": f"http://localhost:{port}/partenaires/shine/webhooks/",
    }
    vigie = [PYTHON, "-m", "vigie"]
    subprocess.run([*vigie, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    subprocess.run([*vigie, "createcachetable"], env=env, check=True)
    subprocess.run([*vigie, "demo", "--if-empty"], env=env, check=True)
    subprocess.run([PYTHON, "-m", "sandbox", "migrate", "-v", "0"], env=sandbox_env, check=True)
    # The sandbox registers know the demo's companies (mostly as the firm holds them).
    seed = os.path.join("var", "registers-seed.json")
    subprocess.run([*vigie, "registers_sandbox_export", "--out", seed], env=env, check=True)
    subprocess.run([PYTHON, "-m", "sandbox", "registers_seed", seed], env=sandbox_env, check=True)
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
        # The register checks wait on the registers' rate: a worker of their own.
        "registers-worker": subprocess.Popen(
            [PYTHON, "-m", "vigie", "db_worker", "--queue-name", "registers", "--interval", "1"],
            env=env,
        ),
        # The large portfolio exports: minutes of work each, a worker of their own.
        "exports-worker": subprocess.Popen(
            [PYTHON, "-m", "vigie", "db_worker", "--queue-name", "exports", "--interval", "1"],
            env=env,
        ),
        # Requeues outbound emails a killed worker left behind (see vigie/mail/services.py).
        "mail_sweep": subprocess.Popen(
            [PYTHON, "-m", "vigie", "mail_sweep", "--every", "30"], env=env
        ),
        "sweep": subprocess.Popen([PYTHON, "-m", "vigie", "sweep", "--every", "15"], env=env),
        "sandbox": subprocess.Popen(
            [
                *(PYTHON, "-m", "gunicorn", "sandbox.wsgi", "--bind", f"127.0.0.1:{sandbox_port}"),
                *("--workers", "1", "--threads", "4", "--log-level", "warning"),
            ],
            env=sandbox_env,
        ),
        "sandbox-webhooks": subprocess.Popen(
            [PYTHON, "-m", "sandbox", "sandbox_webhooks", "--interval", "2"], env=sandbox_env
        ),
    }
    print(
        f"\n  Vigie is running: http://localhost:{port}/\n"
        f"  Sandbox partner (Shine): http://localhost:{sandbox_port}/ · mail: http://localhost:{port}/dev/mail/\n"
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

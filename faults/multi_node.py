"""docs/DEPLOY.md on one machine: `make faults-multi` (`python -m faults.multi_node`).

PgBouncer (Debian's package, installed here when root) in transaction mode on a local
port in front of the drill's PostgreSQL database; two gunicorn web nodes, two task
workers and one `vigie sweep`, all through PgBouncer (DB_POOLER=pgbouncer). Checks that
a session opened on one node is honoured by the other (stateless nodes), then runs the
fault suite's bulk send of 500 invitations with workers SIGKILLed: nothing lost, no
second partner invitation. Exits 1 on any violation.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faults.run import Outcome, make_firm, print_table, scenario_bulk  # noqa: E402
from faults.stack import Stack, recreate_database  # noqa: E402
from tests.sandbox import free_port  # noqa: E402

DB = "vigie_faults_mn"


def ensure_pgbouncer() -> str:
    path = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(path).exists():
        if os.geteuid() != 0:
            raise SystemExit("PgBouncer is missing: sudo apt-get install pgbouncer")
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=300)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "pgbouncer"],
            check=True,
            timeout=600,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    return path


def start_pgbouncer(tmp: Path, port: int) -> subprocess.Popen:
    conf = tmp / "pgbouncer"
    conf.mkdir(mode=0o755)
    (conf / "users.txt").write_text('"root" ""\n')
    (conf / "pgbouncer.ini").write_text(
        f"""[databases]
{DB} = host=127.0.0.1 port=5432 dbname={DB} user=root

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {conf / "users.txt"}
pool_mode = transaction
max_client_conn = 200
default_pool_size = 8
ignore_startup_parameters = extra_float_digits
logfile = {conf / "pgbouncer.log"}
"""
    )
    for path in (tmp, conf, *conf.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (conf / "pgbouncer.log").touch(mode=0o666)
    (conf / "pgbouncer.log").chmod(0o666)
    # PgBouncer refuses to run as root: -u drops to the postgres user.
    argv = [ensure_pgbouncer(), str(conf / "pgbouncer.ini")]
    if os.geteuid() == 0:
        argv[1:1] = ["-u", "postgres"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", str(port), "-d", DB, "-q"], timeout=10
        )
        if ready.returncode == 0:
            return proc
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("PgBouncer did not start: " + (conf / "pgbouncer.log").read_text()[-2000:])


def check_nodes(out: Outcome, ports: list[int], email: str) -> None:
    """Sign in on node 1, read the portfolio on node 2 with the same session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    first, second = (f"http://127.0.0.1:{p}" for p in ports)
    page = opener.open(f"{first}/compte/login/", timeout=15).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"login": email, "password": "x", "csrfmiddlewaretoken": token})
    request = urllib.request.Request(
        f"{first}/compte/login/", data=data.encode(), headers={"Referer": f"{first}/"}
    )
    opener.open(request, timeout=15).read()
    response = opener.open(f"{second}/", timeout=15)
    body = response.read().decode()
    out.check(
        response.status == 200 and "Portefeuille" in body and "/compte/login" not in response.url,
        f"node 2 did not honour node 1's session ({response.status} {response.url})",
    )


def main() -> int:
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    bouncer_port = free_port()
    stack = Stack(db_name=DB, workers=2, db_port=bouncer_port)
    stack.extra_env = {"DB_POOLER": "pgbouncer", "SECURE_COOKIES": "0"}
    outcomes: list[Outcome] = []
    bouncer = None
    try:
        recreate_database(DB)
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "root", "-d", "postgres", "-qc",
             f'ALTER DATABASE "{DB}" SET jit = off'],
            check=True, timeout=30,
        )  # fmt: skip
        bouncer = start_pgbouncer(stack.tmp, bouncer_port)
        stack.start(create_db=False)
        web_ports = [free_port(), free_port()]
        for n, port in enumerate(web_ports, 1):
            stack.add(
                f"web{n}",
                ["-m", "gunicorn", "vigie.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", "2", "--threads", "2", "--log-level", "warning"],
            )  # fmt: skip
        nodes = Outcome("2 web nodes via PgBouncer", "sign in on node 1, read on node 2")
        nodes.partner = "–"
        firm, user = make_firm("Cabinet Deux Nœuds", 3, "MN")
        stack.wait(lambda: _listening(web_ports), 30)
        started = time.monotonic()
        check_nodes(nodes, web_ports, user.email)
        nodes.seconds = time.monotonic() - started
        outcomes.append(nodes)
        bulk = scenario_bulk(stack, clients=500, pg_restart=False)
        bulk.name += " via PgBouncer (2 workers + sweep)"
        outcomes.append(bulk)
    finally:
        stack.stop()
        if bouncer is not None:
            bouncer.terminate()
            try:
                bouncer.wait(10)
            except subprocess.TimeoutExpired:
                bouncer.kill()
    print_table(outcomes, f"multi-node, PgBouncer transaction mode on 127.0.0.1:{bouncer_port}")
    failed = sum(1 for o in outcomes if o.violations)
    print(f"\n{len(outcomes) - failed} passed, {failed} failed (logs: {stack.tmp})")
    return 1 if failed else 0


def _listening(ports: list[int]) -> bool:
    import socket

    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())

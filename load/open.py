"""Load as an open model: `make load-open` (`.venv/bin/python -m load.open`).

`make load` (load/run.py) keeps 50 connections busy without a pause: a slow answer delays
the next request, so its p95 mostly measures its own queue. Here the rate is fixed and
request i leaves at t0 + i/rate whatever the answers (an open model, as users arriving
on their own): each request gets a connection of its own when none is idle, opened as
needed up to `--connections` (reported if reached: the generator then queues, and the
figures say so), and its latency counts from its scheduled time, so a queue in the server
shows. The mix, the firm and the sign-in are load/run.py's (its `_requests`, `_session`,
`_ensure_data`), run in the code tree measured; the client is a small asyncio HTTP/1.1
client (keep-alive when the server allows it; gunicorn's sync workers close after each
answer), one process, whose own CPU is reported for each step: near 100 % it is the
generator, not the server, that saturates.

The search: a warm-up at `--start` requests/s (`--warm-up` s: caches filling), then steps
of `--step-seconds` at rising rates (×1.5) until one misses p95 ≤ 100 ms with 0 errors (or
`--max`), then `--bisect` steps halving the gap between the last good rate and the first
bad. The answer is the highest good rate measured.

    --tree PATH     the checkout whose gunicorn is measured (its own load/run.py builds
                    its data, on database vigie_load_ref when it is not this one)
    --compare PATH  PATH (a reference, e.g. `git worktree add /tmp/ref b08419e`) then this
                    tree, one right after the other; both results and their ratio
    --url URL       a server already running (on this tree's load database)

LOAD_CLIENTS makes a smaller firm for a quick try (its own database, vigie_load_<n>).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "100000"))
TARGET_P95_MS = 100.0
TIMEOUT_S = 10.0
RISE = 1.5

# Run inside the measured tree (its own code, its own load/run.py): build or reuse the
# firm, write the mix, sign in; print what the generator and gunicorn need as JSON.
_PREPARE = """
import json, os, sys
from pathlib import Path
tree, name, url, state, requests = sys.argv[1:6]
sys.path.insert(0, tree)
before = dict(os.environ)
import load.run as r
r.DB_NAME = name
r.DB_URL = url  # the reference's load/run.py names its URL; this tree's derives it
if state:  # a firm of another size: its own marker of what is built
    r.ROOT = Path(state)
os.environ["DATABASE_URL"] = url
env = {k: v for k, v in r._env().items() if before.get(k) != v or k == "DATABASE_URL"}
r._ensure_data(False)
r._requests(Path(requests))
session, csrf, email = r._session()
env["VIGIE_VAR_DIR"] = str(Path(tree) / "var" / "load")
import vigie
code = str(Path(vigie.__file__).parent.parent)
print(json.dumps({"session": session, "csrf": csrf, "email": email, "env": env, "code": code}))
"""


def _database(tree: Path) -> tuple[str, str]:
    """The load database of `tree` (name, URL), on the server bench/db.py picks."""
    from bench.db import server_url

    name = "vigie_load" if tree == ROOT else "vigie_load_ref"
    if CLIENTS != 100_000:
        name += f"_{CLIENTS}"
    return name, server_url().rsplit("/", 1)[0] + f"/{name}"


def prepare(tree: Path, requests: Path) -> dict:
    from bench.db import database_url

    name, url = _database(tree)
    database_url(name)  # created if missing (load/run.py of the reference expects it)
    state = "" if CLIENTS == 100_000 else str(tree / "var" / "load-open" / name)
    print(f"[{tree}] data on {name} (a firm of {CLIENTS} clients)…", flush=True)
    out = subprocess.run(
        [sys.executable, "-c", _PREPARE, str(tree), name, url, state, str(requests)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.exit(f"preparing {tree} failed:\n{out.stderr[-3000:]}")
    prepared = json.loads(out.stdout.strip().splitlines()[-1])
    if Path(prepared["code"]).resolve() != tree.resolve():
        sys.exit(f"{tree} imported the code of {prepared['code']}")
    return prepared


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(tree: Path, env: dict, workers: int, threads: int) -> tuple:
    port = _free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "vigie.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--workers", str(workers), "--threads", str(threads), "--log-level", "warning"),
        ],
        env={**os.environ, **env, "PYTHONPATH": str(tree)},
        cwd=tree,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit(f"gunicorn of {tree} did not start")


def build_requests(path: Path, session: str, csrf: str, host: str) -> list[tuple[str, bytes]]:
    """load/run.py's mix (METHOD<TAB>PATH<TAB>BODY a line) as raw HTTP/1.1 requests, with
    the headers load/mix.lua adds."""
    common = (
        f"Host: {host}\r\nCookie: sessionid={session}; csrftoken={csrf}\r\n"
        f"X-CSRFToken: {csrf}\r\nConnection: keep-alive\r\n"
    )
    out = []
    for line in path.read_text().splitlines():
        method, target, body = (line.split("\t") + [""])[:3]
        extra = ""
        if method == "HXGET":  # a navigation made by htmx in the page
            method, extra = "GET", "HX-Request: true\r\nHX-Current-URL: http://127.0.0.1/\r\n"
        if method == "POST":
            extra = (
                "HX-Request: true\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body.encode())}\r\n"
            )
        else:
            body = ""
        kind = _kind(target)
        out.append((kind, f"{method} {target} HTTP/1.1\r\n{common}{extra}\r\n{body}".encode()))
    return out


def _kind(path: str) -> str:
    """load/run.py's kinds of request: portfolio, search, client, edit."""
    if path.startswith("/clients/"):
        return "edit" if path.rstrip("/").count("/") > 2 else "client"
    return "search" if "q=" in path else "portfolio"


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response: (status, whether the connection can be reused)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    keep = headers.get("connection") != "close"
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif status not in (204, 304):
        await reader.read()  # delimited by the end of the connection
        keep = False
    return status, keep


class Generator:
    def __init__(self, host: str, port: int, requests: list[bytes], connections: int):
        self.host, self.port, self.requests = host, port, requests
        self.bound = connections
        self.idle: list[tuple] = []
        self.open = 0
        self.bound_reached = 0
        self.freed = asyncio.Condition()
        self.next = 0
        self.server_pid: int | None = None

    async def _connection(self) -> tuple:
        while True:
            if self.idle:
                return self.idle.pop()
            if self.open < self.bound:
                self.open += 1
                try:
                    return await asyncio.open_connection(self.host, self.port)
                except BaseException:
                    self.open -= 1
                    raise
            self.bound_reached += 1
            async with self.freed:
                await self.freed.wait()

    async def _release(self, conn, keep: bool) -> None:
        if keep:
            self.idle.append(conn)
        else:
            self.open -= 1
            conn[1].close()
        async with self.freed:
            self.freed.notify()

    async def _one(self, kind: str, payload: bytes, scheduled: float, out: list) -> None:
        conn, keep, status = None, False, 0
        try:
            async with asyncio.timeout(TIMEOUT_S):
                conn = await self._connection()
                conn[1].write(payload)
                status, keep = await _read_response(conn[0])
        except (
            OSError,
            ValueError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
        ):
            status = 0
        finally:
            if conn is not None:
                await self._release(conn, keep and status != 0)
        out.append((time.monotonic() - scheduled, status, kind))

    async def step(self, rate: float, seconds: float) -> dict:
        """Send at `rate` for `seconds` on schedule, wait for the answers, summarise."""
        out: list[tuple[float, int]] = []
        tasks = set()
        cpu0, reached0 = os.times(), self.bound_reached
        server0 = _server_cpu(self.server_pid)
        t0 = time.monotonic() + 0.05
        count = int(rate * seconds)
        late = 0.0
        for i in range(count):
            scheduled = t0 + i / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late = max(late, -delay)
            kind, payload = self.requests[self.next % len(self.requests)]
            self.next += 1
            task = asyncio.create_task(self._one(kind, payload, scheduled, out))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        sent_for = time.monotonic() - t0
        cpu_sent = os.times()
        if tasks:
            await asyncio.wait(set(tasks))
        cpu = (cpu_sent.user + cpu_sent.system) - (cpu0.user + cpu0.system)
        server = _server_cpu(self.server_pid) - server0
        times = sorted(t for t, _status, _kind in out)
        kinds: dict[str, list[float]] = {}
        for t, _status, k in out:
            kinds.setdefault(k, []).append(t * 1000)
        errors = sum(1 for _t, status, _k in out if not 200 <= status < 400)
        statuses: dict[int, int] = {}
        for _t, status, _k in out:
            statuses[status] = statuses.get(status, 0) + 1
        return {
            "rate": rate,
            "achieved": count / (sent_for + 1 / rate),  # the last one's own slot counted
            "count": count,
            "p50": _p(times, 0.50) * 1000,
            "p95": _p(times, 0.95) * 1000,
            "p99": _p(times, 0.99) * 1000,
            "errors": errors,
            "statuses": dict(sorted(statuses.items())),  # 0: no answer (refused, timeout)
            "cpu": 100 * cpu / sent_for if sent_for > 0 else 0.0,
            "server_ms": 1000 * server / count if count and self.server_pid else None,
            "late_ms": late * 1000,
            "kinds": {k: (_p(sorted(v), 0.5), _p(sorted(v), 0.95)) for k, v in kinds.items()},
            "bound_reached": self.bound_reached - reached0,
            "open": self.open,
        }


def _p(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def _good(s: dict) -> bool:
    return s["errors"] == 0 and s["p95"] <= TARGET_P95_MS


def _print_step(label: str, s: dict) -> None:
    bound = f", connection bound hit {s['bound_reached']}×" if s["bound_reached"] else ""
    print(
        f"  {label:9} rate {s['rate']:7.1f}/s  achieved {s['achieved']:7.1f}/s  "
        f"p50 {s['p50']:7.1f}  p95 {s['p95']:7.1f}  p99 {s['p99']:7.1f} ms  "
        f"errors {s['errors']:4d}  generator CPU {s['cpu']:3.0f} %  "
        + (f"gunicorn CPU {s['server_ms']:.1f} ms/request  " if s["server_ms"] is not None else "")
        + f"max send lag {s['late_ms']:.0f} ms{bound}  statuses {s['statuses']}"
        + ("" if label == "warm-up" else f"  [{'good' if _good(s) else 'bad'}]"),
        flush=True,
    )


def _server_cpu(pid: int | None) -> float:
    """CPU seconds of gunicorn's processes (master and workers, from /proc; 0 elsewhere)."""
    if pid is None:
        return 0.0
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for p in [str(pid), *children]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0
    return total


async def search(url: str, requests: list[tuple[str, bytes]], args, server_pid=None) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    gen = Generator(host, port, build_payloads(requests, f"{host}:{port}"), args.connections)
    gen.server_pid = server_pid
    started = time.monotonic()
    warm = await gen.step(args.start, args.warm_up)
    _print_step("warm-up", warm)
    steps = []
    good, bad = None, None
    rate = args.start
    while rate <= args.max:
        s = await gen.step(rate, args.step_seconds)
        _print_step("rising", s)
        steps.append(s)
        if _good(s):
            good = rate
            rate = round(rate * RISE, 1)
        else:
            bad = rate
            break
    if good is None and bad is not None:
        good = 0.0  # even the start misses: bisect below it
    for _ in range(args.bisect if bad is not None else 0):
        if bad - good < max(1.0, 0.03 * bad):
            break
        rate = round((good + bad) / 2, 1)
        s = await gen.step(rate, args.step_seconds)
        _print_step("bisect", s)
        steps.append(s)
        if _good(s):
            good = rate
        else:
            bad = rate
    best = max((s for s in steps if _good(s)), key=lambda s: s["rate"], default=None)
    return {
        "best": best["rate"] if best else 0.0,
        "best_step": best,
        "first_bad": bad,
        "capped": bad is None,
        "seconds": time.monotonic() - started,
        "connections_max": gen.bound,
    }


def build_payloads(requests: list[tuple[str, bytes]], hostport: str) -> list[tuple[str, bytes]]:
    host = f"Host: {hostport}\r\n".encode()
    return [(kind, r.replace(b"Host: HOST\r\n", host)) for kind, r in requests]


def measure(tree: Path, prepared: dict, requests_file: Path, args) -> dict:
    payloads = build_requests(requests_file, prepared["session"], prepared["csrf"], "HOST")
    proc = None
    url = args.url
    if not url:
        proc, url = start_gunicorn(tree, prepared["env"], args.workers, args.threads)
    print(
        f"\n{tree} at {url}: open model, p95 ≤ {TARGET_P95_MS:.0f} ms with 0 errors, "
        f"{args.step_seconds} s steps, signed in as {prepared['email']}",
        flush=True,
    )
    try:
        result = asyncio.run(search(url, payloads, args, proc.pid if proc else None))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    cap = " (--max reached: higher still)" if result["capped"] else ""
    if result["best_step"]:
        kinds = result["best_step"]["kinds"]
        print(
            "    at that rate, p50 / p95 ms by kind: "
            + ", ".join(f"{k} {p50:.1f} / {p95:.1f}" for k, (p50, p95) in sorted(kinds.items()))
        )
    print(f"  → highest rate holding the target: {result['best']:.1f}/s{cap}; "
          f"{result['seconds']:.0f} s of load")  # fmt: skip
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", type=float, default=50.0)
    parser.add_argument("--max", type=float, default=2000.0)
    parser.add_argument("--step-seconds", type=float, default=20.0, dest="step_seconds")
    parser.add_argument("--warm-up", type=float, default=30.0, dest="warm_up")
    parser.add_argument("--bisect", type=int, default=4)
    parser.add_argument("--connections", type=int, default=512)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--url", help="a server already running on this tree's load database")
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--compare", type=Path, metavar="REF_TREE")
    args = parser.parse_args()
    trees = [args.compare.resolve(), ROOT] if args.compare else [args.tree.resolve()]
    if args.url and len(trees) > 1:
        parser.error("--url measures one server: not with --compare")
    tmp = Path(tempfile.mkdtemp(prefix="vigie-load-open-"))
    prepared = {}
    began = time.monotonic()
    for n, tree in enumerate(trees):  # both built before either is measured
        prepared[tree] = prepare(tree, tmp / f"requests-{n}.tsv")
    results = {}
    for n, tree in enumerate(trees):
        results[tree] = measure(tree, prepared[tree], tmp / f"requests-{n}.tsv", args)
    print(f"\nOpen model, firm of {CLIENTS} clients, gunicorn {args.workers}×{args.threads}, "
          f"{os.cpu_count()} cores; whole run {time.monotonic() - began:.0f} s\n")  # fmt: skip
    print(
        "| tree | highest rate, p95 ≤ 100 ms, 0 errors | its p50 / p95 / p99 ms | generator CPU |"
    )
    print("|---|---|---|---|")
    for tree, r in results.items():
        s = r["best_step"]
        figures = f"{s['p50']:.1f} / {s['p95']:.1f} / {s['p99']:.1f}" if s else "–"
        cpu = f"{s['cpu']:.0f} %" if s else "–"
        print(
            f"| {tree} | {r['best']:.1f}/s{' (capped)' if r['capped'] else ''} | {figures} | {cpu} |"
        )
    if len(trees) == 2:
        ref, head = (results[t]["best"] for t in trees)
        ratio = head / ref if ref else 0.0
        print(f"\nthis tree / reference: {ratio:.0%} (target ≥ 85 %)")
        return 0 if ratio >= 0.85 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

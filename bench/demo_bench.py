"""How long `vigie demo` takes on a fresh database (target: under 15 s).

Run: .venv/bin/python bench/demo_bench.py [--runs N]

Each run on a fresh database of its own, vigie_bench_demo (bench/db.py: BENCH_PG_URL,
DATABASE_URL's server or the embedded one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one_run() -> float:
    from bench.db import database_url

    with tempfile.TemporaryDirectory() as var:
        url = database_url("vigie_bench_demo", fresh=True)
        env = {**os.environ, "VIGIE_VAR_DIR": var, "DEBUG": "1", "DATABASE_URL": url}
        run = [sys.executable, "-m", "vigie"]
        subprocess.run([*run, "migrate", "-v", "0"], env=env, check=True)
        started = time.perf_counter()
        subprocess.run([*run, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = [one_run() for _ in range(args.runs)]
    print("demo portfolio (4,537 + 50 clients), wall time of `vigie demo`")
    print(f"  runs: {', '.join(f'{t:.2f} s' for t in times)}")
    print(f"  median: {statistics.median(times):.2f} s (target < 15 s)")


if __name__ == "__main__":
    main()

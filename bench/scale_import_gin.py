"""The import of 200 new clients into the firm of 500 of a bench-scale database, with the
search index's GIN pending list on (`fastupdate`, PostgreSQL's default) and off, in turn.

Each try: the upload and mapping (not timed), then « Lancer » and the worker's
`import_run` (timed), in a transaction rolled back. Before each mode the index's pending
list is emptied (`gin_clean_pending_list`); the index is left with `fastupdate = on`.
The databases are bench/scale.py's (`make bench-scale` builds them):

    SCALE_DB_URL=postgres://root@127.0.0.1:5432/scale_1m \\
      .venv/bin/python bench/scale_import_gin.py 1m [--rounds 4] [--modes on --tries 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scale  # noqa: E402

INDEX = "clients_searchdoc_keys"
TRIES = 5  # timed tries per mode and round, after one untimed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("size", choices=sorted(scale.SIZES))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tries", type=int, default=TRIES, help="timed imports per mode and round")
    parser.add_argument("--modes", default="on,off", help="the pending list's modes, in turn")
    args = parser.parse_args()
    files = scale.VAR / "scale-jobs-files"
    files.mkdir(parents=True, exist_ok=True)
    os.environ["VIGIE_VAR_DIR"] = str(files)
    scale._setup(args.size)

    from django.db import connection, transaction
    from django.test import Client as HttpClient

    from vigie.imports.models import ImportJob
    from vigie.imports.services import import_run

    firm, user = scale._firm_and_user(scale.SMALL_FIRM)
    http = HttpClient()
    http.force_login(user)
    tries = {"n": 0}

    def import_once() -> float:
        tries["n"] += 1
        path = files / f"gin-{tries['n']}.csv"
        scale._import_file(path, offset=8_000_000 + tries["n"] * scale.IMPORT_ROWS)
        with transaction.atomic():
            with open(path, "rb") as handle:
                response = http.post("/imports/", {"file": handle})
            assert response.status_code == 302, response.status_code
            public_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
            job = ImportJob.objects.for_firm(firm).get(public_id=public_id)
            mapping = {field: str(column) for field, column in job.mapping.items()}
            began = time.perf_counter()
            http.post(f"/imports/{job.public_id}/lancer/", mapping)
            job = import_run(job_id=job.pk)
            elapsed = (time.perf_counter() - began) * 1000
            assert job.created_count == scale.IMPORT_ROWS, job.created_count
            job.file.delete(save=False)
            transaction.set_rollback(True)
        path.unlink()
        return elapsed

    def fastupdate(value: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER INDEX {INDEX} SET (fastupdate = {value})")
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [INDEX])

    samples: dict[str, list[float]] = {mode: [] for mode in args.modes.split(",")}
    try:
        for _ in range(args.rounds):
            for mode in samples:
                fastupdate(mode)
                import_once()
                samples[mode] += [import_once() for _ in range(args.tries)]
    finally:
        fastupdate("on")
    for mode, values in samples.items():
        values.sort()
        print(
            f"{args.size} fastupdate={mode}: p50 {statistics.median(values):.1f} ms, "
            f"p90 {values[int(len(values) * 0.9)]:.1f} ms ({len(values)} imports of "
            f"{scale.IMPORT_ROWS}), load {os.getloadavg()[0]:.1f}, shared_buffers "
            f"{_setting('shared_buffers')}"
        )


def _setting(name: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()

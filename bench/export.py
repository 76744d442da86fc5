"""Export: the operator's CSV of redemptions, streamed, against PostgreSQL's ``COPY … TO STDOUT`` of the same rows.

A database of its own (``passnum_bench_export_<pid>``, created, migrated and dropped by the run)
is loaded by ``bench.dashboard.seed``: 100,000 handed-out booklets (quick: 1,000) whose every pass
is redeemed — 1,000,000 redemptions (quick: 10,000) over 200 sites (quick: 20).

In a fresh process (so that its memory is the export's alone):

1. **Reference**: ``COPY (<the export's SELECT>) TO STDOUT WITH (FORMAT csv)`` read to the end by
   the client, the same SQL the export sends (same joins, same order): ``copy_s`` (best of 2,
   after one warm-up run that brings the tables into the cache for both).
2. **Export**: the code the download streams (``sponsors.reporting.exports``: ``count()`` then
   ``csv_chunks``: lines written by PostgreSQL, read by ``COPY`` 10,000 at a time, every batch
   through ``passnum.csv_export`` for formulas), read to its last byte: ``seconds`` (best of 2). ``ratio = seconds /
   copy_s`` (target ≤ 3); ``peak_rss_mb``: the largest resident memory of that process (target
   ≤ 200 MB).

    python -m bench.export [--quick] [--hand-overs N]
"""

import argparse
import os
import resource
import subprocess
import sys
import time

from bench.toolkit import ROOT, bench_environment, drop_database, emit, log, prepare_database

DATABASE = f"passnum_bench_export_{os.getpid()}"
RUNS = 2


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passnum.settings")
    import django

    django.setup()


def _copy_seconds(sql: str) -> tuple[float, int]:
    """Runs ``COPY (sql) TO STDOUT`` and reads every byte; returns (seconds, bytes)."""
    from django.db import connection

    connection.ensure_connection()
    started = time.perf_counter()
    size = 0
    with connection.connection.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def _export_seconds() -> tuple[float, int, int]:
    """The streamed CSV of every redemption, read to its end: (seconds, rows, bytes)."""
    from sponsors.reporting import exports
    from sponsors.reporting.models import ExportKind
    from sponsors.reporting.periods import Period

    started = time.perf_counter()
    export = exports.source(kind=ExportKind.REDEMPTIONS, period=Period())
    rows = export.count()
    size = sum(len(piece) for piece in exports.csv_chunks(export))
    return time.perf_counter() - started, rows, size


def run_measure() -> int:
    _setup_django()
    from django.db import connection

    from mediators.redemption import selectors

    # The export's own SELECT, parameters inlined (there are none without a period).
    query = selectors.redemption_export_rows(as_text=True)
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        sql = cursor.mogrify(sql, params) if params else sql
    _copy_seconds(sql)  # warm-up: the tables in the cache, for both
    export_runs, copy_runs = [], []
    for _ in range(RUNS):
        seconds, rows, export_bytes = _export_seconds()
        export_runs.append(seconds)
        log(f"[export] export of {rows} rows: {seconds:.2f} s, {export_bytes / 1e6:.0f} MB")
        copy_s, copy_bytes = _copy_seconds(sql)
        copy_runs.append(copy_s)
        log(f"[export] COPY of the same rows: {copy_s:.2f} s, {copy_bytes / 1e6:.0f} MB")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds, copy_s = min(export_runs), min(copy_runs)
    print(f"{rows} {seconds} {copy_s} {peak_mb}", flush=True)
    return 0


def run_seed(*, hand_overs: int, sites: int, prescribers: int) -> int:
    _setup_django()
    from bench.dashboard import seed

    started = time.perf_counter()
    seed(hand_overs=hand_overs, sites=sites, prescribers=prescribers)
    log(f"[export] seeded {hand_overs * 10} redemptions in {time.perf_counter() - started:.1f} s")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1/100 of the sizes, to check that the benchmark works")
    parser.add_argument("--hand-overs", type=int, help="handed-out booklets of 10 passes (default 100000, quick 1000)")
    parser.add_argument("--inner", choices=["seed", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    hand_overs = args.hand_overs or (1_000 if args.quick else 100_000)
    sites, prescribers = (20, 10) if args.quick else (200, 100)
    if args.inner == "seed":
        return run_seed(hand_overs=hand_overs, sites=sites, prescribers=prescribers)
    if args.inner == "measure":
        return run_measure()

    env = bench_environment(database=DATABASE)
    try:
        prepare_database(env, fresh=True)
        log(f"[export] seeding {hand_overs * 10} redemptions")
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.export", "--inner", "seed", "--hand-overs", str(hand_overs)]
            + (["--quick"] if args.quick else []),
            cwd=ROOT,
            env=env,
            check=False,
        )
        if seeded.returncode != 0:
            log(f"[export] seeding failed ({seeded.returncode})")
            return seeded.returncode
        measured = subprocess.run(
            [sys.executable, "-m", "bench.export", "--inner", "measure"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        drop_database(DATABASE)
    lines = measured.stdout.strip().splitlines()
    if measured.returncode != 0 or not lines:
        log(f"[export] failed ({measured.returncode})")
        return measured.returncode or 1
    rows, seconds, copy_s, peak_mb = lines[-1].split()
    seconds, copy_s = float(seconds), float(copy_s)
    emit(
        {
            "benchmark": "export",
            "quick": args.quick,
            "rows": int(rows),
            "seconds": round(seconds, 3),
            "copy_s": round(copy_s, 3),
            "ratio": round(seconds / copy_s, 3),
            "peak_rss_mb": round(float(peak_mb), 1),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

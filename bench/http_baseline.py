"""HTTP baseline: the cheapest request of the app, against PostgreSQL's own throughput.

``GET /healthz`` (one ``SELECT 1`` and a Redis ping) under gunicorn with production
settings, loaded by wrk with 16 clients for 20 s (2 s with ``--quick``); then, on the same
machine in the same run, ``pgbench -N`` with 8 clients for as long. ``ratio`` = rps /
pgbench tps: what one HTTP round trip through Django costs next to one PostgreSQL
transaction. Later benchmarks are read against this floor.

    python -m bench.http_baseline [--quick] [--duration S] [--clients N]
"""

import sys

from bench.toolkit import (
    GunicornServer,
    RssSampler,
    bench_environment,
    emit,
    log,
    parse_args,
    pgbench_tps,
    prepare_database,
    run_wrk,
)

WARMUP_S = 1  # workers open their PostgreSQL and Redis connections: not measured
PGBENCH_CLIENTS = 8


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv, full_duration_s=20, quick_duration_s=2, clients=16)
    env = bench_environment()
    prepare_database(env)
    with GunicornServer(env) as server, RssSampler(server.pid) as rss:
        url = f"{server.url}/healthz"
        run_wrk(url, connections=args.clients, duration_s=WARMUP_S)
        log(f"wrk: {args.clients} connections, {args.duration:g} s on {url}")
        load = run_wrk(url, connections=args.clients, duration_s=args.duration)
        workers = server.workers
    # After the app has stopped: the two loads never share the CPU.
    log(f"pgbench -N: {PGBENCH_CLIENTS} clients, {args.duration:g} s")
    tps = pgbench_tps(clients=PGBENCH_CLIENTS, duration_s=args.duration)
    if load["errors"] or not load["requests"]:
        log(f"failed requests: {load}")
        return 1
    emit(
        {
            "benchmark": "http_baseline",
            "rps": round(load["rps"], 1),
            "p50_ms": load["p50_ms"],
            "p99_ms": load["p99_ms"],
            "pgbench_tps": round(tps, 1),
            "ratio": round(load["rps"] / tps, 4),
            "peak_rss_mb": round(rss.peak_mb, 1),
            "max_worker_rss_mb": round(rss.max_process_mb, 1),
            "workers": workers,
            "clients": args.clients,
            "duration_s": args.duration,
            "quick": args.quick,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

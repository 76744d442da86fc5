"""Redemption: ``POST /api/v1/redemptions`` with a distinct pass per request, against
PostgreSQL's own throughput.

The app runs under gunicorn with production settings on the benchmarks' database, seeded with
a qualified site (a point of presence in the programme's territory, a catalogue entry, a
member and an API token) and enough handed-out booklets for every request of the run to
redeem a pass of its own. wrk drives 16 clients for 20 s (2 s with ``--quick``), each request
carrying its own ``Idempotency-Key``: the full path — token, site checks, locked passes,
eligibility and territory, redemption, lines, journal, idempotency record — every time. Then
``pgbench -N`` with 8 clients for as long, in the same run. ``ratio = rps / pgbench_tps``.
CPU (user + system, from /proc) of gunicorn's master and workers and of the PostgreSQL
backends of the app's database during the timed load, per redemption, against the same for
pgbench's client and backends per transaction: ``cpu_ratio``.
Targets: p99 ≤ 50 ms, ratio ≥ 0.15, cpu_ratio ≤ 8.

    python -m bench.redemption [--quick] [--duration S] [--clients N]
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.toolkit import (
    LUA_DIR,
    ROOT,
    CpuMeter,
    GunicornServer,
    RssSampler,
    bench_environment,
    database_name,
    emit,
    log,
    parse_args,
    pgbench_run,
    post_json_script_args,
    prepare_database,
    run_wrk,
)

PGBENCH_CLIENTS = 8
WARMUP_S = 1
# Passes seeded per second of load: well above what this machine serves, so that no client
# runs out of bodies (post_json.lua stops a client rather than reuse a pass).
PASSES_PER_SECOND = 1500
PROGRAMME_PREFIX = "BENCH"


def seed(count):
    """Runs in the app's environment (a subprocess): the site, its token and ``count`` active
    passes. Prints the token key and the request bodies, one JSON per line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passnum.settings")
    import django

    django.setup()
    from datetime import date

    from django.db import transaction
    from django.utils import timezone

    from aptic_catalog.models import Service
    from aptic_catalog.services import ensure_referential_loaded
    from mediators.models import CatalogueItem, PointOfPresence, QualificationStatus, Site
    from passnum.accounts.models import User
    from passnum.organisations.enums import OrganisationKind, Role
    from passnum.organisations.models import Membership, Organisation
    from passnum.organisations.services import create_api_token
    from passnum.organisations.validators import siret_from_prefix
    from passnum.passes import services as pass_services
    from passnum.passes.models import Booklet, Pass
    from sponsors.models import Order, Programme
    from sponsors.services import next_order_number

    ensure_referential_loaded()
    service = Service.objects.get(code=1)
    organisation, _ = Organisation.objects.get_or_create(
        siret=siret_from_prefix("91919191"), defaults={"kind": OrganisationKind.SITE, "name": "Site du banc d'essai"}
    )
    site, _ = Site.objects.update_or_create(
        organisation=organisation, defaults={"status": QualificationStatus.QUALIFIED, "qualified_at": timezone.now()}
    )
    point, _ = PointOfPresence.objects.get_or_create(
        site=site,
        name="Lieu du banc d'essai",
        defaults={"address": "1 place de la Victoire", "postcode": "33000", "commune": "Bordeaux",
                  "insee_code": "33063", "latitude": 44.83, "longitude": -0.57},
    )  # fmt: skip
    CatalogueItem.objects.get_or_create(site=site, service=service, defaults={"passes_required": 1})
    user, _ = User.objects.get_or_create(email="banc@bench.passnum.invalid")
    Membership.objects.get_or_create(user=user, organisation=organisation, defaults={"role": Role.MEMBER})
    _token, key = create_api_token(organisation=organisation, user=user, name="banc d'essai")

    sponsor, _ = Organisation.objects.get_or_create(
        siret=siret_from_prefix("92929292"), defaults={"kind": OrganisationKind.SPONSOR, "name": "Financeur du banc"}
    )
    prescriber, _ = Organisation.objects.get_or_create(
        siret=siret_from_prefix("93939393"),
        defaults={"kind": OrganisationKind.PRESCRIBER, "name": "Prescripteur du banc"},
    )
    valid_until = date(timezone.localdate().year + 1, 12, 31)
    programme, _ = Programme.objects.get_or_create(
        prefix=PROGRAMME_PREFIX,
        defaults={"sponsor": sponsor, "name": "Banc d'essai", "valid_until": valid_until, "departments": ["33"]},
    )
    booklets = -(-count // programme.passes_per_booklet)
    face = booklets * programme.passes_per_booklet * programme.face_value_cents
    with transaction.atomic():
        order = Order.objects.create(
            programme=programme, sponsor=sponsor, booklet_count=booklets,
            number=next_order_number(sponsor=sponsor, year=timezone.localdate().year),
            face_value_cents=face, fee_rate_bp=0, fee_cents=0,
            vat_rate_bp=0, vat_cents=0, total_cents=face, status=Order.Status.PAID,
        )  # fmt: skip
        pass_services.generate_booklets(order)
    pass_services.allocate_booklets(order, prescriber, count=booklets)
    for booklet in Booklet.objects.filter(order=order).select_related("order"):
        pass_services.hand_out_booklet(booklet)
    print(key)
    for code in Pass.objects.filter(booklet__order=order, state="active").values_list("code", flat=True):
        print(json.dumps({"codes": [code], "service": service.code, "point_of_presence": point.pk}))


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv, full_duration_s=20, quick_duration_s=2, clients=16)
    env = bench_environment()
    prepare_database(env, fresh=True)  # every run on an empty database: comparable figures
    count = int(PASSES_PER_SECOND * (args.duration + WARMUP_S + 1))
    log(f"seeding {count} active passes")
    seeded = subprocess.run(
        [sys.executable, "-m", "bench.redemption", "--seed", str(count)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    if seeded.returncode != 0:
        log(seeded.stderr[-3000:])
        return 1
    key, *bodies = seeded.stdout.splitlines()
    with tempfile.TemporaryDirectory(prefix="passnum-bench-redemption-") as folder:
        warmup_file, bodies_file = Path(folder) / "warmup.jsonl", Path(folder) / "bodies.jsonl"
        split = int(PASSES_PER_SECOND * WARMUP_S)
        warmup_file.write_text("\n".join(bodies[:split]) + "\n")
        bodies_file.write_text("\n".join(bodies[split:]) + "\n")
        headers = {"Authorization": f"Token {key}"}
        with GunicornServer(env) as server, RssSampler(server.pid) as rss:
            url = f"{server.url}/api/v1/redemptions"
            lua = LUA_DIR / "post_json.lua"
            run_wrk(url, connections=args.clients, duration_s=WARMUP_S, lua_script=lua, headers=headers,
                    script_args=post_json_script_args(warmup_file, "/api/v1/redemptions"))  # fmt: skip
            log(f"wrk: {args.clients} connections, {args.duration:g} s on {url}")
            with CpuMeter(pids=[server.pid], databases=[database_name(env)]) as cpu:
                bodies_args = post_json_script_args(bodies_file, "/api/v1/redemptions")
                load = run_wrk(url, connections=args.clients, duration_s=args.duration, lua_script=lua,
                               headers=headers, script_args=bodies_args)  # fmt: skip
            workers = server.workers
            server_log = server.log_text() if load["errors"] or load["non_2xx"] else ""
    log(f"pgbench -N: {PGBENCH_CLIENTS} clients, {args.duration:g} s")
    pgbench = pgbench_run(clients=PGBENCH_CLIENTS, duration_s=args.duration)
    tps = pgbench["tps"]
    if load["errors"] or load["non_2xx"] or not load["requests"] or load.get("exhausted_threads"):
        log(f"failed or refused requests: {load}\n{server_log[-3000:]}")
        return 1
    cpu_ms = 1000 * cpu.cpu_s / load["requests"]
    emit(
        {
            "benchmark": "redemption",
            "rps": round(load["rps"], 1),
            "p50_ms": load["p50_ms"],
            "p99_ms": load["p99_ms"],
            "pgbench_tps": round(tps, 1),
            "ratio": round(load["rps"] / tps, 4),
            "peak_rss_mb": round(rss.peak_mb, 1),
            "cpu_ms_per_redemption": round(cpu_ms, 3),
            "cpu_ms_app": round(1000 * cpu.by_kind_s["processes"] / load["requests"], 3),
            "cpu_ms_postgres": round(1000 * cpu.by_kind_s["postgres"] / load["requests"], 3),
            "cpu_ms_per_pgbench_tx": round(pgbench["cpu_ms_per_tx"], 3),
            "cpu_ratio": round(cpu_ms / pgbench["cpu_ms_per_tx"], 2),
            "workers": workers,
            "clients": args.clients,
            "duration_s": args.duration,
            "quick": args.quick,
        }
    )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--seed"]:
        seed(int(sys.argv[2]))
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))

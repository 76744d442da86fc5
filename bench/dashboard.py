"""Dashboard: the sponsor's programme page and its report API against the bare SQL of the same queries.

A database of its own (``passnum_bench_dashboard_<pid>``, created, migrated and dropped by the
run) is loaded with one programme of 110,000 booklets (quick: 1,100) of 10 passes: 100,000
handed out (quick: 1,000) by 100 prescribers (quick: 10), each to a beneficiary, over the last
twelve months, and every pass of them redeemed — 1,000,000 redemptions (quick: 10,000) over 200
sites (quick: 20) of two places each, across the #APTIC services; the other 10,000 booklets
sit in prescribers' stock. Rows are written set-based (``INSERT … SELECT generate_series``),
redemptions in time order as they arrive. Then the nightly rollup runs (``roll_up_report_totals``:
the reports' totals of every closed day, ``rollup_s``) and the statistics are refreshed: the page
reads the totals, and live only the redemptions and hand-overs of the last day or two.

1. **Page**: ``GET /sponsor/programmes/<id>/`` by a member of the sponsor (Django's test client
   in this process, production settings), ``--requests`` times after two warm-up requests:
   ``p95_ms``; ``queries``: SQL queries of one request.
2. **API**: ``GET /api/v1/reports/programmes/<id>`` with the sponsor's token, the same way:
   ``api_p95_ms``, ``api_queries``.
3. **Reference**: the SQL statements the page sent (so, since the totals, those reading them and
   the rows since the rollup, and the live counts of booklets and passes), re-run bare on a
   cursor (median of 5 runs): ``sql_ms``. ``ratio = p95_ms / sql_ms`` (target ≤ 3; p95 ≤ 300 ms; queries ≤ 20).

    python -m bench.dashboard [--quick] [--hand-overs N] [--requests N]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench.toolkit import ROOT, bench_environment, drop_database, emit, log, percentiles, prepare_database

DATABASE = f"passnum_bench_dashboard_{os.getpid()}"
PASSES_PER_BOOKLET = 10


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passnum.settings")
    import django

    django.setup()


def seed(*, hand_overs: int, sites: int, prescribers: int):
    """The programme, its booklets, passes, beneficiaries, hand-overs and redemptions; returns
    the programme."""
    from datetime import date

    from django.db import connection, transaction
    from django.utils import timezone

    from aptic_catalog.models import Service
    from aptic_catalog.services import ensure_referential_loaded
    from beneficiaries.models import AgeBand, Beneficiary, HandOver
    from mediators.models import PointOfPresence, QualificationStatus, Site
    from mediators.redemption.models import RedeemedPass, Redemption
    from passnum.organisations.enums import OrganisationKind
    from passnum.organisations.models import Organisation
    from passnum.organisations.validators import siret_from_prefix
    from passnum.passes.models import Booklet, Pass
    from sponsors.models import Order, Programme
    from sponsors.services import next_order_number

    ensure_referential_loaded()
    services = list(Service.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    site_orgs = Organisation.objects.bulk_create(
        [
            Organisation(siret=siret_from_prefix(f"8{n:07d}0001"), kind=OrganisationKind.SITE, name=f"Structure {n}")
            for n in range(1, sites + 1)
        ]
    )
    site_rows = Site.objects.bulk_create(
        [Site(organisation=o, status=QualificationStatus.QUALIFIED, qualified_at=now) for o in site_orgs]
    )
    points = PointOfPresence.objects.bulk_create(
        [
            PointOfPresence(site=s, name=f"Lieu {k}", address="1 place de la Victoire", postcode="33000",
                            commune="Bordeaux", insee_code=f"33{(i * 2 + k) % 60 + 1:03d}", latitude=44.83,
                            longitude=-0.57)
            for i, s in enumerate(site_rows) for k in (1, 2)
        ]
    )  # fmt: skip
    holders = Organisation.objects.bulk_create(
        [
            Organisation(
                siret=siret_from_prefix(f"7{n:07d}0001"), kind=OrganisationKind.PRESCRIBER, name=f"Prescripteur {n}"
            )
            for n in range(1, prescribers + 1)
        ]
    )
    sponsor = Organisation.objects.create(
        siret=siret_from_prefix("929292920001"), kind=OrganisationKind.SPONSOR, name="Commanditaire du banc"
    )
    programme = Programme.objects.create(
        prefix="DASH", sponsor=sponsor, name="Banc d'essai du tableau de bord",
        valid_until=date(timezone.localdate().year + 1, 12, 31), departments=["33"],
    )  # fmt: skip
    in_stock = hand_overs // 10
    total = hand_overs + in_stock
    face = programme.face_value_cents
    per_order = 5000  # an order holds at most 5,000 booklets
    with transaction.atomic():
        orders = [
            Order.objects.create(
                programme=programme, sponsor=sponsor, booklet_count=min(per_order, total - start),
                number=next_order_number(sponsor=sponsor, year=timezone.localdate().year),
                face_value_cents=face * PASSES_PER_BOOKLET * min(per_order, total - start),
                fee_rate_bp=0, fee_cents=0, vat_rate_bp=0, vat_cents=0,
                total_cents=face * PASSES_PER_BOOKLET * min(per_order, total - start), status=Order.Status.PAID,
            )
            for start in range(0, total, per_order)
        ]  # fmt: skip
    table = {m: connection.ops.quote_name(m._meta.db_table) for m in (Booklet, Pass, Beneficiary, HandOver,
                                                                      Redemption, RedeemedPass)}  # fmt: skip
    year = "365 days"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table[Booklet]} (programme_id, order_id, number, serial, state, holder_id, created_at)
            SELECT %s, (%s::bigint[])[(g - 1) / %s + 1], g, 'DASH' || lpad(g::text, 6, '0'),
                   CASE WHEN g <= %s THEN 'handed_out' ELSE 'allocated' END,
                   (%s::bigint[])[g %% %s + 1], now() - interval '{year}'
            FROM generate_series(1, %s) AS g""",  # noqa: S608 - quoted table names; values are parameters
            [programme.pk, [o.pk for o in orders], per_order, hand_overs, [h.pk for h in holders], len(holders), total],
        )
        cursor.execute(
            f"""INSERT INTO {table[Pass]} (booklet_id, programme_id, position, code, face_value_cents, state,
                                           valid_until, expires_on, legacy_check)
            SELECT b.id, b.programme_id, p, upper(substr(md5(b.id::text || '-' || p::text), 1, 13)), %s,
                   CASE WHEN b.state = 'handed_out' THEN 'redeemed' ELSE 'active' END, %s, %s, false
            FROM {table[Booklet]} b CROSS JOIN generate_series(1, %s) AS p WHERE b.programme_id = %s""",  # noqa: S608
            [face, programme.valid_until, programme.valid_until, PASSES_PER_BOOKLET, programme.pk],
        )
        # One beneficiary per handed-out booklet, in booklet order; their communes across the Gironde
        # and three overseas departments.
        cursor.execute(
            f"""INSERT INTO {table[Beneficiary]} (created_by_id, programme_id, age_band, commune, audiences,
                                                  contact_consent, email, phone, name, created_at)
            SELECT b.holder_id, b.programme_id, (%s::text[])[b.id %% 5 + 1],
                   (ARRAY['33', '33', '33', '24', '40', '971', '974'])[b.id %% 7 + 1] || lpad((b.id %% 90 + 1)::text,
                   CASE WHEN b.id %% 7 >= 5 THEN 2 ELSE 3 END, '0'),
                   '[]'::jsonb, false, '', '', '', now()
            FROM {table[Booklet]} b WHERE b.programme_id = %s AND b.state = 'handed_out' ORDER BY b.id""",  # noqa: S608
            [list(AgeBand.values), programme.pk],
        )
        cursor.execute(
            f"""INSERT INTO {table[HandOver]} (booklet_id, beneficiary_id, organisation_id, at, is_exception,
                                               exception_reason, exception_warnings)
            SELECT b.id, n.id, b.holder_id, now() - interval '{year}' * (b.rank::float8 / %s), false, '', '[]'::jsonb
            FROM (SELECT id, holder_id, row_number() OVER (ORDER BY id) AS rank FROM {table[Booklet]}
                  WHERE programme_id = %s AND state = 'handed_out') AS b
            JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rank FROM {table[Beneficiary]}
                  WHERE programme_id = %s) AS n ON n.rank = b.rank""",  # noqa: S608
            [hand_overs, programme.pk, programme.pk],
        )
        # Every pass of a handed-out booklet redeemed once, a pass per redemption; those older than
        # two months are settled. The redemption's id is derived from its pass, to write its line.
        point_ids = [p.pk for p in points]
        site_of_point = [p.site_id for p in points]
        cursor.execute(
            # In time order, as redemptions arrive: the rows of a day sit together on disk.
            f"""INSERT INTO {table[Redemption]} (id, site_id, point_of_presence_id, service_id, programme_id,
                    booklet_id, pass_count, amount_cents, beneficiary_share_cents, scanned_at, redeemed_at,
                    settled_at)
            SELECT md5('r' || p.id::text)::uuid, (%s::bigint[])[p.id %% %s + 1], (%s::bigint[])[p.id %% %s + 1],
                   (%s::bigint[])[p.id %% %s + 1], p.programme_id, p.booklet_id, 1, p.face_value_cents, 0, at, at,
                   CASE WHEN at < now() - interval '60 days' THEN at + interval '31 days' END
            FROM {table[Pass]} p
            CROSS JOIN LATERAL (SELECT now() - interval '{year}' * ((p.id %% 997)::float8 / 997)) AS t(at)
            WHERE p.programme_id = %s AND p.state = 'redeemed'
            ORDER BY at""",  # noqa: S608
            [site_of_point, len(points), point_ids, len(points), services, len(services), programme.pk],
        )
        cursor.execute(
            f"""INSERT INTO {table[RedeemedPass]} (redemption_id, pass_id, face_value_cents, is_live)
            SELECT md5('r' || p.id::text)::uuid, p.id, p.face_value_cents, true
            FROM {table[Pass]} p WHERE p.programme_id = %s AND p.state = 'redeemed'""",  # noqa: S608
            [programme.pk],
        )
        for name in table.values():
            cursor.execute(f"VACUUM ANALYZE {name}")  # noqa: S608
    return programme


def roll_up():
    """What the nightly job does (``roll_up_report_totals``): the totals of every closed day; then
    the statistics of every table, as autovacuum would have them. Returns the seconds taken."""
    from django.db import connection

    from beneficiaries import services as beneficiary_services
    from mediators.redemption import services as redemption_services

    started = time.perf_counter()
    redemption_services.roll_up_totals()
    beneficiary_services.roll_up_totals()
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return seconds


def _timed_requests(client, url, count, **extra):
    samples = []
    for _ in range(count + 2):
        started = time.perf_counter()
        response = client.get(url, secure=True, **extra)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.content[:300]!r}")
    return samples[2:]  # the first two warm the caches


def _bare_sql_ms(statements) -> float:
    """Median of 5 runs of ``statements`` on a bare cursor, in ms."""
    from django.db import connection

    runs = []
    for _ in range(5):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def run(*, hand_overs: int, sites: int, prescribers: int, requests: int, quick: bool) -> int:
    _setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from passnum.accounts.models import User
    from passnum.organisations.enums import Role
    from passnum.organisations.models import Membership
    from passnum.organisations.services import create_api_token

    log(f"[dashboard] seeding {hand_overs} hand-overs and {hand_overs * PASSES_PER_BOOKLET} redemptions")
    started = time.perf_counter()
    programme = seed(hand_overs=hand_overs, sites=sites, prescribers=prescribers)
    log(f"[dashboard] seeded in {time.perf_counter() - started:.1f} s")
    rollup_s = roll_up()
    log(f"[dashboard] rolled up the closed days in {rollup_s:.1f} s")

    user = User.objects.create_user(email="banc@exemple.fr", password=None)
    Membership.objects.create(user=user, organisation=programme.sponsor, role=Role.MEMBER)
    _token, key = create_api_token(organisation=programme.sponsor, user=user, name="banc")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    page_url = f"/sponsor/programmes/{programme.pk}/"
    api_url = f"/api/v1/reports/programmes/{programme.pk}"

    page_ms = _timed_requests(client, page_url, requests)
    api_client = Client(HTTP_HOST="127.0.0.1")
    api_ms = _timed_requests(api_client, api_url, requests, HTTP_AUTHORIZATION=f"Token {key}")
    with CaptureQueriesContext(connection) as page_queries:
        client.get(page_url, secure=True)
    with CaptureQueriesContext(connection) as api_queries:
        api_client.get(api_url, secure=True, HTTP_AUTHORIZATION=f"Token {key}")
    for query in sorted(page_queries.captured_queries, key=lambda q: -float(q["time"]))[:4]:
        log(f"[dashboard] slowest: {float(query['time']) * 1000:.0f} ms {query['sql'][:300]}")
    statements = [q["sql"] for q in page_queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    sql_ms = _bare_sql_ms(statements)
    p95 = percentiles(page_ms, (95,))[95]
    api_p95 = percentiles(api_ms, (95,))[95]
    log(
        f"[dashboard] page p95 {p95:.0f} ms ({len(page_queries)} queries), API p95 {api_p95:.0f} ms "
        f"({len(api_queries)} queries), bare SQL of the page {sql_ms:.0f} ms"
    )
    emit(
        {
            "benchmark": "dashboard",
            "quick": quick,
            "hand_overs": hand_overs,
            "redemptions": hand_overs * PASSES_PER_BOOKLET,
            "requests": requests,
            "p95_ms": round(p95, 1),
            "api_p95_ms": round(api_p95, 1),
            "queries": len(page_queries),
            "api_queries": len(api_queries),
            "sql_ms": round(sql_ms, 1),
            "ratio": round(p95 / sql_ms, 3),
            "rollup_s": round(rollup_s, 1),
        }
    )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1/100 of the sizes, to check that the benchmark works")
    parser.add_argument("--hand-overs", type=int, help="handed-out booklets (default 100000, quick 1000)")
    parser.add_argument("--requests", type=int, help="timed requests per URL (default 40, quick 10)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    hand_overs = args.hand_overs or (1_000 if args.quick else 100_000)
    requests = args.requests or (10 if args.quick else 40)
    sites, prescribers = (20, 10) if args.quick else (200, 100)
    if args.inner:  # in the app's environment, on the benchmark's database
        return run(hand_overs=hand_overs, sites=sites, prescribers=prescribers, requests=requests, quick=args.quick)

    env = bench_environment(database=DATABASE)
    try:
        prepare_database(env, fresh=True)
        cmd = [sys.executable, "-m", "bench.dashboard", "--inner", "--hand-overs", str(hand_overs)]
        cmd += ["--requests", str(requests)] + (["--quick"] if args.quick else [])
        completed = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False)
    finally:
        drop_database(DATABASE)
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        log(f"[dashboard] failed ({completed.returncode})")
        return completed.returncode or 1
    print(lines[-1], flush=True)  # already the JSON line of emit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

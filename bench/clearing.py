"""Clearing: the monthly close against bare SQL, and the statements' PDFs against WeasyPrint the naive way.

A database of its own (``passnum_bench_clearing_<pid>``, created, migrated and dropped by the run)
is loaded with 1,000,000 redemptions of one month over 2,000 qualified sites (quick: 20,000
over 40), written set-based (``INSERT … SELECT generate_series``) on real rows: organisations,
sites, a point of presence each, the #APTIC service, a sponsor's paid programme and a booklet.

1. **Reference**: in a transaction rolled back afterwards, the bare SQL of a close, i.e. the
   month's totals per site into a temporary table and one ``UPDATE`` marking the same
   redemptions settled.
2. **Close**: ``clearing.services.close_month`` for that month (statements, lines, settlement,
   audit; the PDF task it queues after commit is caught, not sent). ``ratio = close_s /
   reference_s`` (target ≤ 3).
3. **PDFs**: every statement through the Celery task's own code
   (``clearing.tasks.render_statement_pdfs``, batches of 50) on a pool of processes, one per
   core; then, on a sample of 50, the naive way: one WeasyPrint document per statement, same
   template, stylesheet and fonts parsed anew each time, one process. ``pdf_ratio`` = CPU per
   statement of the pool / CPU per statement of the naive way (target ≤ 1.0); ``pdf_s`` the
   pool's wall time (target ≤ 120 s for 2,000); ``peak_rss_mb`` the largest resident memory of
   one process (target ≤ 400 MB).

    python -m bench.clearing [--quick] [--sites N] [--redemptions N]
"""

import argparse
import os
import resource
import subprocess
import sys
import time

from bench.toolkit import ROOT, RssSampler, Timer, bench_environment, drop_database, emit, log, prepare_database

# A database per run (dropped at its end): two runs at once (make test and make bench) never
# drop each other's.
DATABASE = f"passnum_bench_clearing_{os.getpid()}"
NAIVE_SAMPLE = 50
TASK_BATCH = 50  # statements per call of the Celery task (its own PDF_BATCH)


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passnum.settings")
    import django

    django.setup()


# --- in the app's environment (a subprocess) ------------------------------------------------


def seed(*, sites: int, redemptions: int, month):
    """The rows the redemptions need, then ``redemptions`` of them spread over ``sites`` sites and
    over ``month`` (a date, first day), set-based. Returns the ids of the sites."""
    from datetime import date

    from django.db import connection, transaction
    from django.utils import timezone

    from aptic_catalog.models import Service
    from aptic_catalog.services import ensure_referential_loaded
    from clearing.services import month_bounds
    from mediators.models import CatalogueItem, PointOfPresence, QualificationStatus, Site
    from mediators.redemption.models import Redemption
    from passnum.organisations.enums import OrganisationKind
    from passnum.organisations.models import Organisation
    from passnum.organisations.validators import siret_from_prefix
    from passnum.passes import services as pass_services
    from passnum.passes.models import Booklet
    from sponsors.models import Order, Programme
    from sponsors.services import next_order_number

    ensure_referential_loaded()
    service = Service.objects.get(code=1)
    now = timezone.now()
    organisations = Organisation.objects.bulk_create(
        [
            Organisation(
                siret=siret_from_prefix(f"8{number:07d}0001"), kind=OrganisationKind.SITE, name=f"Structure {number}"
            )
            for number in range(1, sites + 1)
        ]
    )
    site_rows = Site.objects.bulk_create(
        [Site(organisation=o, status=QualificationStatus.QUALIFIED, qualified_at=now) for o in organisations]
    )
    PointOfPresence.objects.bulk_create(
        [
            PointOfPresence(site=s, name="Lieu principal", address="1 place de la Victoire", postcode="33000",
                            commune="Bordeaux", insee_code="33063", latitude=44.83, longitude=-0.57)
            for s in site_rows
        ]
    )  # fmt: skip
    CatalogueItem.objects.bulk_create([CatalogueItem(site=s, service=service, passes_required=1) for s in site_rows])
    sponsor = Organisation.objects.create(
        siret=siret_from_prefix("929292920001"), kind=OrganisationKind.SPONSOR, name="Financeur du banc"
    )
    programme = Programme.objects.create(
        prefix="BENCH", sponsor=sponsor, name="Banc d'essai de la clôture",
        valid_until=date(timezone.localdate().year + 1, 12, 31), departments=["33"],
    )  # fmt: skip
    with transaction.atomic():
        face = programme.passes_per_booklet * programme.face_value_cents
        order = Order.objects.create(
            programme=programme, sponsor=sponsor, booklet_count=1,
            number=next_order_number(sponsor=sponsor, year=timezone.localdate().year),
            face_value_cents=face, fee_rate_bp=0, fee_cents=0,
            vat_rate_bp=0, vat_cents=0, total_cents=face, status=Order.Status.PAID,
        )  # fmt: skip
        pass_services.generate_booklets(order)
    booklet = Booklet.objects.get(order=order)
    start, end = month_bounds(month)
    site_ids = [s.pk for s in site_rows]
    points = dict(PointOfPresence.objects.filter(site_id__in=site_ids).values_list("site_id", "pk"))
    table = connection.ops.quote_name(Redemption._meta.db_table)
    with connection.cursor() as cursor:
        # Redemption i belongs to site i mod N, at a moment spread evenly over the month.
        cursor.execute(
            f"""
            INSERT INTO {table} (id, site_id, point_of_presence_id, service_id, programme_id, booklet_id,
                                 pass_count, amount_cents, beneficiary_share_cents, scanned_at, redeemed_at)
            SELECT gen_random_uuid(), s.site_id, s.point_id, %s, %s, %s, 1, %s, 0, at, at
            FROM generate_series(0, %s - 1) AS g(i)
            JOIN unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS s(site_id, point_id, n)
              ON s.n = g.i %% %s + 1
            CROSS JOIN LATERAL (
                SELECT %s::timestamptz + (%s::timestamptz - %s::timestamptz) * (g.i::float8 / %s)
            ) AS t(at)
            """,  # noqa: S608 - only a quoted table name; values are parameters
            [service.pk, programme.pk, booklet.pk, programme.face_value_cents, redemptions,
             site_ids, [points[s] for s in site_ids], len(site_ids), start, end, start, redemptions],
        )  # fmt: skip
        cursor.execute(f"VACUUM ANALYZE {table}")  # noqa: S608
    return site_ids


def reference_close(*, month, now) -> float:
    """Seconds of the bare SQL of a close, rolled back: totals per site into a temporary table,
    then the same redemptions marked settled."""
    from django.db import connection, transaction

    from clearing.services import month_bounds
    from mediators.redemption.models import Redemption

    table = connection.ops.quote_name(Redemption._meta.db_table)
    end = month_bounds(month)[1]
    unsettled = "undone_at IS NULL AND settled_at IS NULL AND redeemed_at < %s"
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE month_totals ON COMMIT DROP AS SELECT site_id, count(*) AS redemptions, "  # noqa: S608
                f"sum(amount_cents) AS cents, sum(pass_count) AS passes FROM {table} WHERE {unsettled} "
                "GROUP BY site_id",
                [end],
            )
            cursor.execute(f"UPDATE {table} SET settled_at = %s WHERE {unsettled}", [now, end])  # noqa: S608
            settled = cursor.rowcount
            elapsed = time.perf_counter() - started
            raise _RollBack(settled)
    except _RollBack as rolled_back:
        log(f"[clearing] reference: {rolled_back.settled} redemptions settled in {elapsed:.2f} s (rolled back)")
    return elapsed


def vacuum_redemptions():
    from django.db import connection

    from mediators.redemption.models import Redemption

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(Redemption._meta.db_table)}")  # noqa: S608


class _RollBack(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, settled):
        self.settled = settled


def _render_batch(ids):
    """In a pool process: the Celery task's own code on one batch; (statements, pid, peak MB)."""
    from clearing.tasks import render_statement_pdfs

    rendered = render_statement_pdfs.run(ids)
    return rendered, os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render_all(statement_ids, *, workers):
    """Every statement's PDF on ``workers`` processes; (wall s, CPU s of the pool, peak MB of one
    process, statements rendered)."""
    from multiprocessing import get_context

    from django.db import connections

    connections.close_all()  # a forked process must open its own connection
    batches = [statement_ids[i : i + TASK_BATCH] for i in range(0, len(statement_ids), TASK_BATCH)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with RssSampler(os.getpid()) as rss:
        started = time.perf_counter()
        with get_context("fork").Pool(workers) as pool:
            results = pool.map(_render_batch, batches, chunksize=1)
            pool.close()
            pool.join()
        wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = max([rss.max_process_mb] + [mb for _, _, mb in results])
    return wall, cpu, peak, sum(n for n, _, _ in results)


def render_naive(statements) -> float:
    """CPU seconds of the naive way over ``statements``: per statement, its context read, the same
    template, a new stylesheet and font configuration, one WeasyPrint document."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from clearing import selectors
    from clearing.pdf import STYLESHEET

    with Timer() as timer:
        for statement in statements:
            html = render_to_string(
                "clearing/statement_pdf.html",
                {
                    "statement": statement,
                    "groups": selectors.statement_groups(statement=statement),
                    "adjustments": selectors.statement_adjustments(statement=statement),
                    "issuer": settings.PASSNUM_OPERATOR_NAME,
                },
            )
            fonts = FontConfiguration()
            HTML(string=html).write_pdf(stylesheets=[CSS(string=STYLESHEET, font_config=fonts)], font_config=fonts)
    return timer.cpu_s


def run(*, sites: int, redemptions: int, quick: bool, workers: int) -> int:
    """The whole measure, in the app's environment; emits the JSON line."""
    _setup_django()
    from django.utils import timezone

    import clearing.tasks
    from clearing import services
    from clearing.models import Statement, StatementLine

    month = services.previous_month(timezone.localdate())
    log(f"[clearing] seeding {redemptions} redemptions over {sites} sites in {month:%m/%Y}")
    with Timer() as seeding:
        seed(sites=sites, redemptions=redemptions, month=month)
    log(f"[clearing] seeded in {seeding.wall_s:.1f} s")
    now = timezone.now()

    reference_s = reference_close(month=month, now=now)
    # The rolled-back reference left a dead version of every redemption (and an entry in each of
    # their indexes): the close must start from the clean table the reference had, as the real
    # close does after the nightly autovacuum.
    vacuum_redemptions()

    # The close queues the PDFs after its commit (outbox: apply_async): caught here, rendered below.
    queued = []
    clearing.tasks.render_statement_pdfs.apply_async = lambda args=(), kwargs=None, **options: queued.extend(args[0])
    with Timer() as close:
        result = services.close_month(month=month, now=now)
    lines = StatementLine.objects.count()
    log(f"[clearing] close: {len(result.numbers)} statements, {lines} lines in {close.wall_s:.2f} s")
    if (
        len(result.numbers) != sites
        or lines != redemptions
        or sorted(queued) != sorted(Statement.objects.values_list("pk", flat=True))
    ):
        log(f"[clearing] expected {sites} statements and {redemptions} lines, queued PDFs {len(queued)}")
        return 1

    pdf_s, pool_cpu, peak_mb, rendered = render_all(sorted(queued), workers=workers)
    if rendered != sites or Statement.objects.filter(pdf="").exists():
        log(f"[clearing] {rendered} PDFs rendered out of {sites}")
        return 1
    per_statement = pool_cpu / rendered
    sample = list(Statement.objects.select_related("site__organisation").order_by("pk")[:NAIVE_SAMPLE])
    naive_per_statement = render_naive(sample) / len(sample)
    log(
        f"[clearing] PDFs: {rendered} in {pdf_s:.1f} s on {workers} processes, {per_statement * 1000:.0f} ms CPU "
        f"each; naive {naive_per_statement * 1000:.0f} ms CPU each on {len(sample)}; peak RSS {peak_mb:.0f} MB"
    )
    emit(
        {
            "benchmark": "clearing",
            "quick": quick,
            "redemptions": redemptions,
            "sites": sites,
            "close_s": round(close.wall_s, 3),
            "reference_s": round(reference_s, 3),
            "ratio": round(close.wall_s / reference_s, 3),
            "pdf_s": round(pdf_s, 2),
            "pdf_cpu_ms": round(per_statement * 1000, 1),
            "naive_pdf_cpu_ms": round(naive_per_statement * 1000, 1),
            "pdf_ratio": round(per_statement / naive_per_statement, 3),
            "peak_rss_mb": round(peak_mb, 1),
            "workers": workers,
        }
    )
    return 0


# --- the driver -------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmark works")
    parser.add_argument("--sites", type=int, help="qualified sites (default 2000, quick 40)")
    parser.add_argument("--redemptions", type=int, help="redemptions of the month (default 1000000, quick 20000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="PDF processes (default: cores)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sites = args.sites or (40 if args.quick else 2000)
    redemptions = args.redemptions or (20_000 if args.quick else 1_000_000)
    if args.inner:  # in the app's environment, on the benchmark's database
        return run(sites=sites, redemptions=redemptions, quick=args.quick, workers=args.workers)

    env = bench_environment(database=DATABASE)
    try:
        prepare_database(env, fresh=True)
        cmd = [sys.executable, "-m", "bench.clearing", "--inner", "--sites", str(sites)]
        cmd += ["--redemptions", str(redemptions), "--workers", str(args.workers)]
        cmd += ["--quick"] if args.quick else []
        completed = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False)
    finally:
        drop_database(DATABASE)
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        log(f"[clearing] failed ({completed.returncode})")
        return completed.returncode or 1
    print(lines[-1], flush=True)  # already the JSON line of emit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

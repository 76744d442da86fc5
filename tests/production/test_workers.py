"""Real Celery workers (``celery -A passnum worker`` subprocesses, the test Redis and the test
PostgreSQL database): a print run fanned out over the workers, a worker killed with SIGKILL in
the middle of a run, a monthly close whose statement PDFs are rendered by a worker."""

import io
import time
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from clearing import services as clearing_services
from clearing.models import Statement
from passnum.passes import services
from passnum.passes.models import Pass, PrintRun
from tests.clearing.factories import paris, redemptions_in
from tests.mediators.factories import redeeming_site
from tests.passes.test_printing import decode_pdf, paid_order, read

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(condition, timeout=120, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{message}: not reached in {timeout} s")


def run_state(run):
    run.refresh_from_db()
    return run


def approved_order(booklets, start_worker_or_none=None, **programme):
    """A paid order whose proof was printed by the workers and approved."""
    order = paid_order(booklets, passes_per_booklet=5, **programme)
    proof = services.request_proof(order)
    wait_until(lambda: run_state(proof).status == PrintRun.Status.DONE, message="proof printed")
    services.approve_proof(proof)
    return order


def files_on_disk(media_root):
    """Visible files of the print folder (temporary ``.part`` files of a killed write excluded)."""
    folder = Path(media_root) / "print"
    return {
        str(path.relative_to(media_root))
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def test_a_print_run_of_200_booklets_fans_out_over_a_real_worker(start_worker, media_root):
    worker = start_worker(concurrency=2)
    order = approved_order(200, prefix="WRK")
    run = services.launch_print_run(order, chunk_size=25)
    wait_until(lambda: run_state(run).status == PrintRun.Status.DONE, timeout=300, message="run printed")

    assert (run.done_booklets, run.total_booklets, run.error) == (200, 200, "")
    files = list(run.files.order_by("chunk"))
    assert [f.chunk for f in files] == list(range(8))
    # The chunks were printed by the worker processes, not by this one.
    assert "passnum.passes.tasks.print_chunk" in worker.output()

    expected = {p.code for p in Pass.objects.filter(booklet__order=order)}
    assert len(expected) == 1000
    qr, bars = set(), set()
    for print_file in files:
        for _, kind, text in decode_pdf(read(print_file), dpi=200):
            (qr if kind == "QRCode" else bars).add(text)
    assert qr == {f"{settings.SITE_URL}/p/{code}" for code in expected}
    assert expected <= bars
    assert files_on_disk(media_root) >= {f.file.name for f in files}


def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes_once(start_worker, media_root):
    first = start_worker(concurrency=1)
    order = approved_order(60, prefix="KIL")
    run = services.launch_print_run(order, chunk_size=5)  # 12 chunks
    wait_until(lambda: run_state(run).done_booklets >= 5, message="first chunk printed")
    first.kill()  # SIGKILL: no warm shutdown, the chunk being printed is left unacknowledged
    run.refresh_from_db()
    assert run.status == PrintRun.Status.RUNNING and run.done_booklets < 60

    start_worker(concurrency=2)
    wait_until(lambda: run_state(run).status == PrintRun.Status.DONE, timeout=300, message="run completed")

    files = list(run.files.order_by("chunk"))
    assert [f.chunk for f in files] == list(range(12))  # none missing, none twice (unique constraint)
    assert run.done_booklets == 60
    assert [(f.first_serial, f.last_serial) for f in files] == [
        (f"KIL{5 * n + 1:06d}", f"KIL{5 * n + 5:06d}") for n in range(12)
    ]
    # Every stored print file is recorded, and every record has its whole PDF.
    proof_files = {f.file.name for f in PrintRun.objects.get(order=order, kind="proof").files.all()}
    assert files_on_disk(media_root) == {f.file.name for f in files} | proof_files
    for print_file in files:
        assert len(PdfReader(io.BytesIO(read(print_file))).pages) == 2 * print_file.booklet_count


def test_a_monthly_close_renders_its_statement_pdfs_on_a_worker(start_worker):
    start_worker(concurrency=1)
    places = [redeeming_site() for _ in range(2)]
    for place in places:
        redemptions_in(place, paris(2026, 10, 5), count=2)

    result = clearing_services.close_month(month="2026-10", now=paris(2026, 11, 1, 2))

    assert len(result.numbers) == 2
    statements = list(Statement.objects.filter(number__in=result.numbers))
    wait_until(lambda: all(Statement.objects.get(pk=s.pk).pdf for s in statements), message="statement PDFs rendered")
    for statement in statements:
        statement.refresh_from_db()
        with statement.pdf.open("rb") as handle:
            text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
        assert statement.number in text

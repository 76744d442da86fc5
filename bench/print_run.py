"""Print run: booklet PDFs per pass against WeasyPrint laying out every pass (the naive way).

Measures the project's real renderer (``passnum.passes.printing.render_chunk``, the function the
Celery chunk task calls) on a pool of worker processes, one per core, each rendering chunks of
50 booklets of 10 passes with fake codes (no database needed), and writes the PDFs to a
temporary folder. The reference, timed in the same run, is WeasyPrint rendering one document
of A6 pages, one pass per page with its QR code and Code 128 barcode (SVG), 100 pages (quick:
20). ``ratio = cpu_s_per_pass / baseline_cpu_s_per_pass`` (target ≤ 0.15); ``peak_rss_mb`` is the
highest peak resident memory of one worker (target ≤ 400 MB).
"""

import argparse
import base64
import io
import os
import resource
import sys
import tempfile
import time
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from bench.toolkit import Timer, emit, log

CHUNK_BOOKLETS = 50
PASSES_PER_BOOKLET = 10
SITE_URL = "https://passnum.example"


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passnum.settings")
    import django

    django.setup()


def design():
    from passnum.passes.printing import Design

    return Design(
        key="bench",
        programme_name="Pass numérique Haute-Garonne 2026",
        sponsor_name="Département de la Haute-Garonne",
        face_value_cents=1000,
        passes_per_booklet=PASSES_PER_BOOKLET,
        valid_until=date(2026, 12, 31),
        site_url=SITE_URL,
        territory="la Haute-Garonne (31)",
        contact="pass-numerique@exemple.fr",
    )


def fake_chunks(booklets):
    from passnum.passes import codes

    chunks, current = [], []
    for number in range(1, booklets + 1):
        current.append((f"HG{number:06d}", [codes.generate() for _ in range(PASSES_PER_BOOKLET)]))
        if len(current) == CHUNK_BOOKLETS:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return chunks


def _worker_init():
    _setup_django()


def render_one(args):
    """In a worker: one chunk → one PDF file. Returns (pages bytes, worker pid, peak RSS MB)."""
    from passnum.passes.printing import render_chunk

    index, chunk, folder = args
    pdf = render_chunk(design(), chunk)
    Path(folder, f"chunk-{index:05d}.pdf").write_bytes(pdf)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return len(pdf), os.getpid(), peak_mb


def baseline(pages):
    """WeasyPrint lays out ``pages`` A6 passes, each with its QR code and Code 128 barcode (SVG)."""
    import segno
    from barcode import Code128
    from barcode.writer import SVGWriter
    from weasyprint import HTML

    from passnum.passes import codes

    html = [
        "<html><head><meta charset='utf-8'><style>@page{size:A6;margin:6mm} body{font-family:'DejaVu Sans'}"
        ".p{page-break-after:always} .qr svg,.qr img{width:30mm;height:30mm} .bar img{width:85mm;height:18mm}"
        "h1{font-size:14pt;color:#00563f} .code{font:bold 13pt 'DejaVu Sans Mono'}</style></head><body>"
    ]
    for number in range(pages):
        code = codes.generate()
        qr = segno.make(f"{SITE_URL}/p/{code}", error="m").svg_data_uri(scale=4)
        buffer = io.BytesIO()
        Code128(code, writer=SVGWriter()).write(buffer, options={"write_text": False})
        bar = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
        html.append(
            f"<div class='p'><h1>PASS NUMÉRIQUE — 10 €</h1><p>Département de la Haute-Garonne</p>"
            f"<div class='qr'><img src='{qr}' alt=''></div><p class='code'>{codes.grouped(code)}</p>"
            f"<p>Carnet HG{number:06d} · valable jusqu'au 31/12/2026</p>"
            "<p><b>Non valable sans remise au guichet</b></p>"
            f"<div class='bar'><img src='{bar}' alt=''></div></div>"
        )
    html.append("</body></html>")
    with Timer() as timer:
        pdf = HTML(string="".join(html)).write_pdf()
    return timer.cpu_s, len(pdf)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmark works")
    parser.add_argument("--booklets", type=int, help="booklets of 10 passes (default 2000, quick 100)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="worker processes (default: cores)")
    args = parser.parse_args(argv)
    booklets = args.booklets or (100 if args.quick else 2000)
    baseline_pages = 20 if args.quick else 100
    _setup_django()

    log(f"[print_run] baseline: WeasyPrint, {baseline_pages} A6 pages")
    baseline_cpu, _ = baseline(baseline_pages)
    baseline_per_pass = baseline_cpu / baseline_pages
    log(f"[print_run] baseline: {baseline_per_pass * 1000:.1f} ms CPU per pass")

    chunks = fake_chunks(booklets)
    passes = booklets * PASSES_PER_BOOKLET
    log(f"[print_run] {booklets} booklets ({passes} passes) in {len(chunks)} chunks on {args.workers} workers")
    with tempfile.TemporaryDirectory(prefix="passnum-print-") as folder:
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        context = get_context("fork")
        with context.Pool(args.workers, initializer=_worker_init, maxtasksperchild=None) as pool:
            results = pool.map(render_one, [(i, chunk, folder) for i, chunk in enumerate(chunks)], chunksize=1)
            pool.close()
            pool.join()
        seconds = time.perf_counter() - started
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        total_bytes = sum(size for size, _, _ in results)
        files = len(list(Path(folder).glob("*.pdf")))
    if files != len(chunks):
        log(f"[print_run] expected {len(chunks)} files, found {files}")
        return 1
    cpu = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
    cpu_per_pass = cpu / passes
    worker_peaks = {}
    for _, pid, peak in results:
        worker_peaks[pid] = max(peak, worker_peaks.get(pid, 0))
    peak = max(worker_peaks.values())
    log(
        f"[print_run] {seconds:.1f} s wall, {cpu:.1f} s CPU ({cpu_per_pass * 1000:.2f} ms per pass), "
        f"{total_bytes / 2**20:.0f} MB of PDF, peak RSS per worker {peak:.0f} MB, workers used {len(worker_peaks)}"
    )
    emit(
        {
            "benchmark": "print_run",
            "quick": args.quick,
            "passes": passes,
            "booklets": booklets,
            "workers": len(worker_peaks),
            "seconds": round(seconds, 2),
            "cpu_s": round(cpu, 2),
            "cpu_s_per_pass": round(cpu_per_pass, 5),
            "baseline_cpu_s_per_pass": round(baseline_per_pass, 5),
            "ratio": round(cpu_per_pass / baseline_per_pass, 4),
            "peak_rss_mb": round(peak, 1),
            "max_worker_rss_mb": round(peak, 1),
            "pdf_mb": round(total_bytes / 2**20, 1),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

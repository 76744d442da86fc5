"""Print runs as Celery jobs: one task per chunk of booklets, run in parallel by the workers.

Idempotent: a chunk already stored is skipped, a file is recorded once per (run, chunk) under
a unique constraint, so re-running a finished or half-finished run never duplicates anything.
"""

import secrets

from celery import group, shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from passnum.passes import printing, selectors
from passnum.passes.models import PrintFile, PrintRun
from passnum.storage import StorageUnavailable


@shared_task
def run_print(run_id, inline=False):
    """Starts (or resumes) a print run: dispatches the chunks not yet printed."""
    run = PrintRun.objects.get(pk=run_id)
    if run.status == PrintRun.Status.DONE:
        return 0
    PrintRun.objects.filter(pk=run_id).exclude(status=PrintRun.Status.DONE).update(
        status=PrintRun.Status.RUNNING, error=""
    )
    done = set(run.files.values_list("chunk", flat=True))
    missing = [chunk for chunk in range(run.chunk_count) if chunk not in done]
    if not missing:
        _finish_if_complete(run_id)
        return 0
    if inline:
        for chunk in missing:
            _print_chunk(run_id, chunk)
    else:
        group(print_chunk.s(run_id, chunk) for chunk in missing).apply_async()
    return len(missing)


# A full or unreachable file store is temporary: the chunk is tried again, up to about an hour.
STORAGE_RETRY_DELAY = 60
STORAGE_RETRIES = 60


@shared_task(bind=True, max_retries=STORAGE_RETRIES)
def print_chunk(self, run_id, chunk):
    """Renders one chunk of booklets to a PDF stored under an unguessable name."""
    try:
        return _print_chunk(run_id, chunk)
    except StorageUnavailable as error:
        # The run stays "running" with the reason shown on its page; the chunk is retried.
        PrintRun.objects.filter(pk=run_id).update(error=f"Lot {chunk + 1} : {error.message}")
        raise self.retry(exc=error, countdown=STORAGE_RETRY_DELAY) from error


def _print_chunk(run_id, chunk):
    run = PrintRun.objects.select_related("order__programme__sponsor").get(pk=run_id)
    if run.files.filter(chunk=chunk).exists():
        return None
    try:
        design = selectors.design_for(run.order.programme)
        if run.kind == PrintRun.Kind.PROOF:  # a proof never carries the codes of real passes
            booklets = printing.specimen_booklet(design)
            pdf = printing.render_chunk(design, booklets, specimen=True)
        else:
            booklets = selectors.booklets_for_chunk(run, chunk)
            pdf = printing.render_chunk(design, booklets)
    except Exception as error:
        PrintRun.objects.filter(pk=run_id).update(status=PrintRun.Status.FAILED, error=str(error)[:2000])
        raise
    first, last = booklets[0][0], booklets[-1][0]
    name = default_storage.save(f"print/{secrets.token_urlsafe(24)}/carnets-{first}-{last}.pdf", ContentFile(pdf))
    with transaction.atomic():
        PrintRun.objects.select_for_update().get(pk=run_id)
        print_file, created = PrintFile.objects.get_or_create(
            print_run_id=run_id,
            chunk=chunk,
            defaults={
                "first_serial": first,
                "last_serial": last,
                "booklet_count": len(booklets),
                "file": name,
                "size": len(pdf),
            },
        )
        if created:
            PrintRun.objects.filter(pk=run_id).update(done_booklets=F("done_booklets") + len(booklets))
    if not created:  # another worker printed it first: keep theirs only
        default_storage.delete(name)
    _finish_if_complete(run_id)
    return print_file.pk


def _finish_if_complete(run_id):
    with transaction.atomic():
        run = PrintRun.objects.select_for_update().get(pk=run_id)
        if run.status != PrintRun.Status.DONE and run.files.count() == run.chunk_count:
            run.status = PrintRun.Status.DONE
            run.finished_at = timezone.now()
            run.error = ""
            run.save(update_fields=["status", "finished_at", "error"])


@shared_task
def purge_print_files():
    """Nightly: deletes the print files of runs delivered more than
    ``PASSNUM_PRINT_FILE_RETENTION_DAYS`` ago (the booklets exist on paper; the PDF holds live codes)."""
    from passnum.passes import services

    return services.purge_delivered_print_files()

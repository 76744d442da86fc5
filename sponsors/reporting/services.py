"""Writes of the exports: a background export started, written with its progress, purged."""

import datetime
import secrets
import tempfile

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from passnum.errors import DomainError
from passnum.outbox import submit_on_commit
from sponsors.reporting import exports
from sponsors.reporting.models import ExportFormat, ExportJob, ExportKind
from sponsors.reporting.periods import check_period

OPERATOR_KINDS = (ExportKind.REDEMPTIONS, ExportKind.HAND_OVERS)


def is_large(*, row_count: int) -> bool:
    """Above ``PASSNUM_EXPORT_ASYNC_ROWS`` rows an export runs in the background."""
    return row_count > settings.PASSNUM_EXPORT_ASYNC_ROWS


def check_export(*, kind: str, file_format: str) -> None:
    if kind not in ExportKind.values:
        raise DomainError("Choisissez ce que vous voulez exporter.", code="export_kind_unknown", field="kind")
    if file_format not in ExportFormat.values:
        raise DomainError("Choisissez le format CSV ou XLSX.", code="export_format_unknown", field="file_format")


@transaction.atomic
def start_export(
    *, user, organisation, kind: str, file_format: str, params: dict, row_count: int, file_name: str
) -> ExportJob:
    """Records a background export and submits its task once committed."""
    check_export(kind=kind, file_format=file_format)
    now = timezone.now()
    job = ExportJob.objects.create(
        created_at=now,
        owner=user,
        organisation=organisation,
        kind=kind,
        file_format=file_format,
        params=params,
        row_count=row_count,
        file_name=file_name,
        expires_at=now + datetime.timedelta(days=settings.PASSNUM_EXPORT_DAYS),
    )
    from sponsors.reporting.tasks import run_export

    submit_on_commit(run_export, job.pk)
    return job


def source_of(*, job: ExportJob) -> exports.Source:
    """The export a job writes, from its recorded parameters."""
    period = check_period(first=job.params.get("du"), last=job.params.get("au"), today=timezone.localdate())
    programme = None
    if job.kind == ExportKind.PROGRAMME_REPORT:
        from sponsors.models import Programme

        programme = Programme.objects.for_organisation(job.organisation).get(pk=job.params["programme_id"])
    return exports.source(kind=job.kind, period=period, programme=programme)


def write_export(*, job_id: int) -> ExportJob:
    """Writes the job's file (idempotent: a finished job is left as it is). The rows go to a
    temporary file, in constant memory, then to the storage under an unguessable name."""
    job = ExportJob.objects.get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return job
    ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.RUNNING, rows_done=0, error="")
    export = source_of(job=job)

    def progress(done):
        ExportJob.objects.filter(pk=job_id).update(rows_done=min(done, job.row_count))

    try:
        with tempfile.TemporaryFile() as handle:
            if job.file_format == ExportFormat.XLSX:
                exports.write_xlsx(export, handle, on_progress=progress)
            else:
                for piece in exports.csv_chunks(export, on_progress=progress):
                    handle.write(piece)
            handle.seek(0)
            name = default_storage.save(f"exports/{secrets.token_urlsafe(24)}/{job.file_name}", File(handle))
    except Exception as error:
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED, error=str(error)[:2000])
        raise
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.DONE, file=name, finished_at=timezone.now(), rows_done=job.row_count
    )
    job.refresh_from_db()
    return job


def purge_expired_exports(*, now: datetime.datetime | None = None) -> int:
    """Deletes the files of the exports past their 7 days; returns how many. The job stays (its
    page says the link has expired)."""
    now = now or timezone.now()
    purged = 0
    for job in ExportJob.objects.filter(expires_at__lte=now, purged_at__isnull=True).iterator():
        if job.file:
            default_storage.delete(job.file.name)
        ExportJob.objects.filter(pk=job.pk).update(file="", purged_at=now)
        purged += 1
    return purged

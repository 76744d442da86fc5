"""Background exports (above ``PASSNUM_EXPORT_ASYNC_ROWS`` rows) and the purge of expired ones."""

from celery import shared_task

from passnum.storage import StorageUnavailable
from sponsors.reporting import services

STORAGE_RETRY_DELAY = 60


@shared_task(bind=True, max_retries=60)
def run_export(self, job_id):
    """Writes an export's file; a full or unreachable store is tried again later."""
    try:
        services.write_export(job_id=job_id)
    except StorageUnavailable as error:
        raise self.retry(exc=error, countdown=STORAGE_RETRY_DELAY) from error


@shared_task
def purge_expired_exports():
    return services.purge_expired_exports()

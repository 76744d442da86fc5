from celery import shared_task


@shared_task
def purge_personal_data():
    """Nightly: erases the personal fields past their retention period (idempotent)."""
    from beneficiaries.services import purge_personal_data as purge

    return purge()

from celery import shared_task


@shared_task
def purge_personal_data():
    """Nightly: erases the personal fields past their retention period (idempotent)."""
    from beneficiaries.services import purge_personal_data as purge

    return purge()


@shared_task
def roll_up_totals():
    """Nightly: adds the closed days' hand-overs to the reports' totals (idempotent)."""
    from beneficiaries.services import roll_up_totals as roll_up

    result = roll_up()
    return {name: value.isoformat() if value else None for name, value in result.items()}

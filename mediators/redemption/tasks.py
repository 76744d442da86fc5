from celery import shared_task


@shared_task
def roll_up_totals():
    """Nightly: adds the closed days' redemptions to the reports' totals (idempotent)."""
    from mediators.redemption.services import roll_up_totals as roll_up

    result = roll_up()
    return {name: value.isoformat() if value else None for name, value in result.items()}

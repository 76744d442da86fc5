"""Jobs of calls for projects (Celery)."""

from celery import shared_task

from sponsors.calls import services


@shared_task
def issue_quarterly_statements():
    """Beat, on the 1st of January, April, July and October: each funder's statement of the
    quarter that just ended (once; safe to rerun)."""
    return [statement.number for statement in services.issue_previous_quarter_statements()]

"""Nightly jobs of the mediation sites (Celery beat, see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.utils import timezone

from mediators.qualification import services
from mediators.qualification.models import Site


@shared_task
def bill_and_remind_subscriptions():
    """Opens this year's subscription of every qualified site, then reminds the late payers once.

    Idempotent: running it twice the same day creates and sends nothing more.
    """
    today = timezone.localdate()
    for site in Site.objects.visible_to_public():
        services.ensure_subscription(site=site, year=today.year, today=today)
    return services.send_subscription_reminders(today=today)

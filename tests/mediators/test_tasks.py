import pytest
from django.utils import timezone

from mediators.qualification.models import Subscription
from mediators.qualification.tasks import bill_and_remind_subscriptions
from tests.mediators.factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_nightly_job_opens_this_years_subscription_of_qualified_sites_only_once():
    qualified = SiteFactory(qualified=True)
    SiteFactory()  # a draft application pays nothing yet
    bill_and_remind_subscriptions.delay()
    bill_and_remind_subscriptions.delay()
    subscriptions = Subscription.objects.all()
    assert [(s.site_id, s.year) for s in subscriptions] == [(qualified.pk, timezone.localdate().year)]

"""Demo of clearing: last month closed for the demo site (a statement, with its PDF once the demo
has committed) and this year's subscription invoiced and paid. Idempotent."""

from django.utils import timezone

from clearing import services
from clearing.models import Adjustment, Statement
from mediators.qualification.selectors import site_of
from mediators.qualification.services import ensure_subscription, mark_subscription_paid

SITE_EMAIL = "site@demo.passnum.fr"  # the administrator of the demo site (passnum/demo.py)


def build(context):
    site = site_of(context.organisations["site"])
    if site is None:
        return
    today = timezone.localdate()
    if not Statement.objects.filter(site=site).exists() and not Adjustment.objects.filter(site=site).exists():
        # The demo's redemptions may all fall in this month: an adjustment makes sure the site has
        # a statement to show.
        services.add_adjustment(
            site=site, amount_cents=500, reason="Démo : encaissement oublié le mois dernier", by=None
        )
    result = services.close_month(month=services.previous_month(today))
    subscription = ensure_subscription(site=site, year=today.year, today=today)
    invoice = services.issue_subscription_invoice(subscription=subscription)
    mark_subscription_paid(subscription=subscription, by=None)
    # Who can log in to see each statement: the demo site's administrator.
    context.output["statements"] = [
        {"number": number, "site_email": SITE_EMAIL, "total_cents": total}
        for number, total in Statement.objects.filter(site=site).order_by("number").values_list("number", "total_cents")
    ]
    context.output["subscription_invoices"] = [invoice.number]
    context.output["close"] = result.message

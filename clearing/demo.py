"""Demo of clearing: the last two months closed for the demo site (a statement each, with its PDF
once the demo has committed), this year's subscription invoiced and paid, and a programme of the demo sponsor
that ended last season: its passes expired, its credit note issued. Idempotent."""

import datetime

from django.utils import timezone

from clearing import services
from clearing.models import Adjustment, CreditNote, Statement
from mediators.qualification.selectors import site_of
from mediators.qualification.services import ensure_subscription, mark_subscription_paid

SITE_EMAIL = "site@demo.passnum.fr"  # the administrator of the demo site (passnum/demo.py)


def build(context):
    site = site_of(context.organisations["site"])
    if site is None:
        return
    today = timezone.localdate()
    last = services.previous_month(today)
    messages = []
    # Two consecutive closed months, the older first, each with its statement. The demo's
    # redemptions may all fall in this month: an adjustment gives each month something to pay.
    for month, cents, reason in (
        (services.previous_month(last), 1200, "Démo : encaissements d'un atelier saisis en retard"),
        (last, 500, "Démo : encaissement oublié le mois dernier"),
    ):
        if Statement.objects.filter(site=site, month=month).exists():
            continue
        if not Adjustment.objects.filter(site=site, statement__isnull=True).exists():
            services.add_adjustment(site=site, amount_cents=cents, reason=reason, by=None)
        messages.append(services.close_month(month=month).message)
    subscription = ensure_subscription(site=site, year=today.year, today=today)
    invoice = services.issue_subscription_invoice(subscription=subscription)
    mark_subscription_paid(subscription=subscription, by=None)
    # Who can log in to see each statement: the demo site's administrator.
    context.output["statements"] = [
        {"number": number, "site_email": SITE_EMAIL, "total_cents": total}
        for number, total in Statement.objects.filter(site=site).order_by("number").values_list("number", "total_cents")
    ]
    context.output["subscription_invoices"] = [invoice.number]
    context.output["close"] = " ".join(messages) or f"Mois {last:%m/%Y} déjà clos : aucun relevé à émettre."
    note = _expired_programme_with_its_credit_note(context, today=today)
    if note is not None:
        context.output["credit_notes"] = [{"number": note.number, "amount_cents": note.amount_cents}]


EXPIRED_PREFIX = "GIRA"  # « Gironde, année passée »


def _expired_programme_with_its_credit_note(context, *, today):
    """Three booklets bought for a programme that ended four months ago and were never handed
    out: the nightly expiry makes their passes expired and credits the sponsor."""
    from passnum.passes.models import Pass
    from sponsors import services as sponsor_services
    from sponsors.models import Programme

    sponsor = context.organisations["sponsor"]
    operator = context.users.get("operateur@demo.passnum.fr")
    programme = Programme.objects.filter(prefix=EXPIRED_PREFIX).first()
    if programme is None:
        programme = sponsor_services.create_programme(
            sponsor,
            {
                "name": "Pass numérique Gironde — saison passée",
                "prefix": EXPIRED_PREFIX,
                "face_value_cents": 1000,
                "passes_per_booklet": 10,
                "valid_until": today + datetime.timedelta(days=1),
                "grace_months": 1,
                "grace_days": 0,
                "departments": ["33"],
                "communes": [],
                "audiences": ["Seniors"],
                "cofunders": [],
                "contact_name": "Service inclusion numérique",
                "contact_email": "pass-numerique@demo.passnum.fr",
            },
        )
        order = sponsor_services.create_quote(programme, 3)
        sponsor_services.confirm_order(order)
        order.refresh_from_db()
        sponsor_services.record_payment(order.invoice, paid_on=today, reference="DEMO-VIR-0002", actor=operator)
        # The demo goes back in time: the programme and its passes ended four months ago.
        ended = today - datetime.timedelta(days=120)
        Programme.objects.filter(pk=programme.pk).update(valid_until=ended)
        Pass.objects.filter(booklet__order__programme=programme).update(expires_on=ended + datetime.timedelta(days=31))
    services.expire_passes(today=today)
    return CreditNote.objects.filter(programme=programme).first()

"""A programme with passes in every state, built through the services."""

from datetime import timedelta
from types import SimpleNamespace

from django.db import transaction

from passnum.passes import services as pass_services
from passnum.passes.models import Pass, PassState
from passnum.passes.validity import OFFLINE_UPLOAD_DAYS
from sponsors.models import Order
from tests.factories import OrganisationFactory
from tests.mediators.factories import redeem_passes, redeemable_booklet, redeeming_site
from tests.passes.factories import BookletFactory  # noqa: F401  (factories the walk imports)
from tests.sponsors.factories import OrderFactory


def programme_in_every_state(*, redeem=2):
    """A paid programme (Gironde) with: one booklet handed out (``redeem`` of its passes redeemed,
    the others active), one booklet handed out then declared lost (cancelled), one paid booklet
    still at the prescriber (created) and an unpaid order's booklet (created, never money)."""
    booklet = redeemable_booklet()
    programme = booklet.programme
    place = redeeming_site()
    if redeem:
        redeem_passes(place, list(booklet.passes.order_by("position")[:1]))
        if redeem > 1:
            redeem_passes(place, list(booklet.passes.order_by("position")[1:2]))
    prescriber = OrganisationFactory(prescriber=True)
    paid = booklet.order
    with transaction.atomic():
        lost, in_stock = pass_services.generate_booklets(
            OrderFactory(programme=programme, booklet_count=2, status=Order.Status.PAID)
        )
    pass_services.allocate_booklets(lost.order, prescriber, count=2)
    pass_services.hand_out_booklet(lost)
    pass_services.cancel_booklet(lost, reason="perdu")
    with transaction.atomic():
        (unpaid,) = pass_services.generate_booklets(
            OrderFactory(programme=programme, booklet_count=1, status=Order.Status.INVOICED)
        )
    expires_on = Pass.objects.filter(programme=programme).values_list("expires_on", flat=True).first()
    return SimpleNamespace(
        programme=programme,
        booklet=booklet,
        lost=lost,
        in_stock=in_stock,
        unpaid=unpaid,
        paid_order=paid,
        place=place,
        expires_on=expires_on,
        expiry_day=expires_on + timedelta(days=OFFLINE_UPLOAD_DAYS + 1),
    )


def states(programme):
    return dict((state, Pass.objects.filter(programme=programme, state=state).count()) for state in PassState.values)

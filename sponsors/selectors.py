"""Reads of the sponsors' space (always through ``for_organisation``)."""

from django.db.models import Count

from sponsors.models import Order, Programme, SponsorInvoice


def programmes_of(organisation):
    return Programme.objects.for_organisation(organisation).annotate(order_count=Count("orders")).order_by("name")


def orders_of(organisation):
    return Order.objects.for_organisation(organisation).select_related("programme", "invoice").order_by("-pk")


def invoices_of(organisation):
    return (
        SponsorInvoice.objects.for_organisation(organisation)
        .select_related("order__programme", "payment")
        .order_by("-year", "-sequence")
    )


def programmes_with_ids(ids):
    """Programmes by id, with their sponsor: for jobs that span every organisation (the purge)."""
    return Programme.objects.filter(pk__in=list(ids)).select_related("sponsor")

"""Reads of the sponsors' space (always through ``for_organisation``)."""

from datetime import timedelta

from django.db.models import Count, Sum

from passnum import audiences as audience_codes
from passnum.passes import selectors as pass_selectors
from passnum.territories import selectors as territory_selectors
from sponsors.models import Order, Programme, ProgrammeAudience, SponsorInvoice


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


def programme_counters(*, programme) -> dict[str, int]:
    """The booklets of a programme, as its sponsor follows them: issued, at prescribers (in
    stock), handed out, started (some passes used), used up (every pass used), cancelled."""
    counts = pass_selectors.booklet_counts_and_usage(booklets=pass_selectors.booklets_of_programme(programme))
    return {
        "issued": counts["total"],
        "at_prescribers": counts["allocated"],
        "handed_out": counts["handed_out"],
        "started": counts["started"],
        "used_up": counts["used_up"],
        "cancelled": counts["cancelled"],
    }


def programmes_ending_soon(*, today, within_days: int = 30, organisation=None):
    """Open programmes whose validity ends between ``today`` and ``within_days`` later (the
    banner of a sponsor's space, or every sponsor's for the alerts), with their sponsor."""
    programmes = Programme.objects.all() if organisation is None else Programme.objects.for_organisation(organisation)
    return (
        programmes.filter(
            status=Programme.Status.OPEN,
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=within_days),
        )
        .select_related("sponsor")
        .order_by("valid_until", "name", "pk")
    )


def ordered_value_by_programme(*, programme=None) -> dict[int, int]:
    """For the ledger: the face value of the passes of each programme's confirmed orders
    (invoiced or paid: their passes exist), in cents. Quotes have no passes yet; an order is
    cancelled only as a quote."""
    orders = Order.objects.filter(status__in=[Order.Status.INVOICED, Order.Status.PAID])
    if programme is not None:
        orders = orders.filter(programme=programme)
    rows = orders.values("programme_id").annotate(value=Sum("face_value_cents")).order_by()
    return {row["programme_id"]: row["value"] or 0 for row in rows}


def programmes_with_ids(ids):
    """Programmes by id, with their sponsor: for jobs that span every organisation (the purge)."""
    return Programme.objects.filter(pk__in=list(ids)).select_related("sponsor")


# --- What a programme accepts (read by the counter and the redemption) ------------------------


def covers_commune(programme, insee_code):
    """Whether the commune is in the programme's territory (no territory: everywhere)."""
    departments, communes = programme.departments or [], programme.communes or []
    if not departments and not communes:
        return True
    return insee_code in communes or territory_selectors.department_of(insee_code=insee_code) in departments


# (programme id, programme.updated_at, service id) → eligible. Saving a programme (its form or
# the admin) changes ``updated_at`` in the transaction that changes its eligible services, so an
# entry is never stale; the cache only spares the redemption a query per scan.
_eligibility_cache = {}


_own_audiences_cache = {}


def own_audiences(*, programme: Programme) -> dict[str, str]:
    """The programme's own audiences, code → label (also those it no longer targets: history).
    Kept in memory per programme version: the services that add or rename one save the
    programme, so its ``updated_at`` changes (the report page asks no query for them)."""
    key = (programme.pk, programme.updated_at)
    if key not in _own_audiences_cache:
        if len(_own_audiences_cache) > 10_000:
            _own_audiences_cache.clear()
        _own_audiences_cache[key] = dict(
            ProgrammeAudience.objects.filter(programme_id=programme.pk).values_list("code", "label")
        )
    return dict(_own_audiences_cache[key])


def audience_labels(*, programme: Programme, codes=None) -> dict[str, str]:
    """Code → French label for ``codes`` (the programme's audiences by default); asks the database
    only when one of them is a code of the programme's own (and not again for the same version
    of the programme)."""
    codes = list(programme.audiences or []) if codes is None else list(codes)
    own = own_audiences(programme=programme) if any(audience_codes.is_programme_code(c) for c in codes) else {}
    return {code: audience_codes.label(code, own) for code in codes}


def audience_choices(*, programme: Programme) -> list[tuple[str, str]]:
    """``(code, label)`` of the audiences the programme targets, for a form's checkboxes."""
    labels = audience_labels(programme=programme)
    return [(code, labels[code]) for code in programme.audiences or []]


def service_is_eligible(programme, service):
    """Whether a programme pays for a service of the referential: with no level, sub-category or
    service chosen, every service; otherwise a service chosen itself, or by its sub-category or
    its level."""
    key = (programme.pk, programme.updated_at, service.pk)
    if key not in _eligibility_cache:
        if len(_eligibility_cache) > 10_000:
            _eligibility_cache.clear()
        _eligibility_cache[key] = _service_is_eligible(programme, service)
    return _eligibility_cache[key]


def _service_is_eligible(programme, service):
    through = Programme.eligible_services.through
    levels = Programme.eligible_levels.through
    subcategories = Programme.eligible_subcategories.through
    chosen = Programme.objects.filter(pk=programme.pk).aggregate(
        services=Count("eligible_services", distinct=True),
        subcategories=Count("eligible_subcategories", distinct=True),
        levels=Count("eligible_levels", distinct=True),
    )
    if not any(chosen.values()):
        return True
    return (
        through.objects.filter(programme_id=programme.pk, service_id=service.pk).exists()
        or subcategories.objects.filter(programme_id=programme.pk, subcategory_id=service.subcategory_id).exists()
        or levels.objects.filter(programme_id=programme.pk, level_id=service.subcategory.level_id).exists()
    )

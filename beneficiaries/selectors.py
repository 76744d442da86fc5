"""Reads of beneficiaries and hand-overs (a prescriber sees only its own; sponsors never see a person)."""

from django.db.models import Count

from beneficiaries.models import HandOver, LossDeclaration


def hand_overs_of(organisation):
    return (
        HandOver.objects.for_organisation(organisation)
        .select_related("booklet", "beneficiary", "user")
        .order_by("-at", "-pk")
    )


def live_hand_over_of_booklet(booklet):
    return HandOver.objects.live().filter(booklet=booklet).select_related("beneficiary").first()


def losses_of(organisation):
    return LossDeclaration.objects.for_organisation(organisation).select_related("booklet", "hand_over")


def replaceable_loss(organisation, serial):
    """The loss declaration of a handed-out booklet, by its serial, still awaiting a replacement."""
    declaration = (
        losses_of(organisation)
        .filter(booklet__serial=serial, hand_over__isnull=False)
        .select_related("hand_over__beneficiary")
        .first()
    )
    if declaration is None or HandOver.objects.live().filter(replaces=declaration.hand_over).exists():
        return None
    return declaration


def hand_over_counts_by_age_band(programme):
    """Aggregates for reporting: live hand-overs of a programme by age band (survive the purge)."""
    return dict(
        HandOver.objects.live()
        .filter(booklet__programme=programme)
        .values_list("beneficiary__age_band")
        .annotate(n=Count("pk"))
    )


def hand_over_by_submission(organisation, submission_key):
    """The hand-over a form submission already made (a double click, a retry), or ``None``."""
    if not submission_key:
        return None
    return (
        HandOver.objects.for_organisation(organisation)
        .filter(submission_key=str(submission_key)[:64])
        .select_related("booklet")
        .first()
    )

"""Factories of calls for projects: calls, applications (as the sponsor and as the funder reads
them) and funders' statements."""

import datetime

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from sponsors.calls.models import Application, Call, FunderStatement, ReceivedApplication
from tests.factories import OrganisationFactory
from tests.mediators.factories import PDF_BYTES
from tests.sponsors.factories import ProgrammeFactory


class CallFactory(factory.django.DjangoModelFactory):
    """An open call with the 2020 State rules (50 %, 20 000 € to 3 M€), deadline in a month."""

    class Meta:
        model = Call

    funder = factory.SubFactory(OrganisationFactory, funder=True)
    title = factory.Sequence(lambda n: f"Appel à projets {n}")
    deadline = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    status = Call.Status.OPEN
    published_at = factory.LazyFunction(timezone.now)

    class Params:
        draft = factory.Trait(status=Call.Status.DRAFT, published_at=None)


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A submitted application: 1 000 booklets of 10 passes of 10 € (100 000 €), 50 %."""

    class Meta:
        model = Application

    call = factory.SubFactory(CallFactory)
    programme = factory.SubFactory(ProgrammeFactory)
    sponsor = factory.LazyAttribute(lambda o: o.programme.sponsor)
    booklet_count = 1000
    amount_cents = factory.LazyAttribute(
        lambda o: o.booklet_count * o.programme.passes_per_booklet * o.programme.face_value_cents
    )
    requested_share_bp = 5000
    audiences = factory.LazyFunction(lambda: {"job_seekers": 5000})
    status = Application.Status.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)


class ReceivedApplicationFactory(ApplicationFactory):
    class Meta:
        model = ReceivedApplication


class FunderStatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FunderStatement

    funder = factory.SubFactory(OrganisationFactory, funder=True)
    number = factory.Sequence(lambda n: f"COF-2020-{n + 1:06d}")
    year = 2020
    quarter = factory.Sequence(lambda n: n % 4 + 1)
    issued_at = factory.LazyFunction(timezone.now)
    funder_name = factory.LazyAttribute(lambda o: o.funder.name)
    settled_cents = 1000
    amount_cents = 500
    pdf = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="releve.pdf"))


def build_calls_side(side, *, programme):
    """The calls-for-projects data of one side of the cross-organisation walk (tests/tenancy.py):
    its funder's open call, its sponsor's application to it (refused, with a reason) and the
    funder's quarterly statement, each distinctive value marked."""
    from tests.tenancy import PRIVATE

    call = CallFactory(
        funder=side.organisations["funder"],
        title=side.mark("calltitle", PRIVATE),
        description=side.mark("calldescription"),
    )
    ApplicationFactory(
        call=call,
        programme=programme,
        status=Application.Status.REFUSED,
        decision_reason=side.mark("decisionreason"),
    )
    FunderStatementFactory(funder=side.organisations["funder"], number=side.mark("cofnumber"))
    return call

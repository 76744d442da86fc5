import factory
from django.db import transaction
from django.utils import timezone

from beneficiaries.models import AgeBand, Beneficiary, HandOver
from passnum.passes import services as pass_services
from passnum.passes.models import Booklet
from sponsors.models import Order
from tests.factories import OrganisationFactory
from tests.passes.factories import BookletFactory
from tests.sponsors.factories import OrderFactory, ProgrammeFactory


class BeneficiaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Beneficiary

    created_by = factory.SubFactory(OrganisationFactory, prescriber=True)
    programme = factory.SubFactory(ProgrammeFactory)
    age_band = AgeBand.B26_44
    commune = "33063"
    audiences = factory.LazyFunction(list)

    class Params:
        with_contact = factory.Trait(contact_consent=True, email="camille@exemple.fr", phone="0601020304")


class HandOverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HandOver

    organisation = factory.SubFactory(OrganisationFactory, prescriber=True)
    booklet = factory.SubFactory(
        BookletFactory, holder=factory.SelfAttribute("..organisation"), state=Booklet.State.HANDED_OUT
    )
    beneficiary = factory.SubFactory(
        BeneficiaryFactory,
        created_by=factory.SelfAttribute("..organisation"),
        programme=factory.SelfAttribute("..booklet.programme"),
    )
    at = factory.LazyFunction(timezone.now)


def booklets_in_stock(prescriber, count=2, *, paid=True, **programme):
    """``count`` booklets (10 passes each) of a new programme, allocated to ``prescriber``."""
    programme.setdefault("audiences", ["seniors", "job_seekers"])
    programme.setdefault("communes", ["33063", "33522"])
    order = OrderFactory(programme=ProgrammeFactory(**programme), booklet_count=count, status=Order.Status.PAID)
    with transaction.atomic():
        pass_services.generate_booklets(order)
    booklets = pass_services.allocate_booklets(order, prescriber, count=count)
    if not paid:
        Order.objects.filter(pk=order.pk).update(status=Order.Status.INVOICED)
    return [Booklet.objects.select_related("order", "programme").get(pk=b.pk) for b in booklets]


BENEFICIARY = {"age_band": "60-74", "commune": "33063", "audiences": ["seniors"], "contact_consent": False}

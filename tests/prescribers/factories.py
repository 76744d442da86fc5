import factory

from passnum.passes.models import Booklet
from prescribers.models import HeldBooklet
from sponsors.models import Order
from tests.factories import OrganisationFactory
from tests.sponsors.factories import OrderFactory


class HeldBookletFactory(factory.django.DjangoModelFactory):
    """A booklet in a prescriber's stock (the API's view of booklets)."""

    class Meta:
        model = HeldBooklet

    holder = factory.SubFactory(OrganisationFactory, prescriber=True)
    order = factory.SubFactory(OrderFactory, status=Order.Status.PAID)
    programme = factory.LazyAttribute(lambda o: o.order.programme)
    number = factory.Sequence(lambda n: n + 1)
    serial = factory.LazyAttribute(lambda o: f"{o.programme.prefix}{o.number:06d}")
    state = Booklet.State.ALLOCATED

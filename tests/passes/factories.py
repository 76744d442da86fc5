import factory
from django.core.files.base import ContentFile

from passnum.passes import codes
from passnum.passes.models import Booklet, Pass, PrintFile, PrintRun
from sponsors.models import Order
from tests.sponsors.factories import OrderFactory


class BookletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booklet

    order = factory.SubFactory(OrderFactory, status=Order.Status.PAID)
    programme = factory.LazyAttribute(lambda o: o.order.programme)
    number = factory.Sequence(lambda n: n + 1)
    serial = factory.LazyAttribute(lambda o: f"{o.programme.prefix}{o.number:06d}")


class PassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pass

    booklet = factory.SubFactory(BookletFactory)
    programme = factory.LazyAttribute(lambda o: o.booklet.programme)
    position = 1
    code = factory.LazyFunction(codes.generate)
    face_value_cents = 1000
    valid_until = factory.LazyAttribute(lambda o: o.programme.valid_until)
    expires_on = factory.LazyAttribute(lambda o: o.programme.valid_until)


class PrintRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrintRun

    order = factory.SubFactory(OrderFactory, status=Order.Status.PAID)
    kind = PrintRun.Kind.FULL
    status = PrintRun.Status.DONE
    total_booklets = 1
    done_booklets = 1


class PrintFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrintFile

    print_run = factory.SubFactory(PrintRunFactory)
    chunk = 0
    first_serial = "QAA000001"
    last_serial = "QAA000001"
    booklet_count = 1
    file = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4 carnets de test", name="print/test/carnets.pdf"))
    size = 24

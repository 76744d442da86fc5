from datetime import date

import factory
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from sponsors.models import Order, Programme, SponsorInvoice
from tests.factories import OrganisationFactory


def letters(n):
    """A unique prefix of capital letters for sequence number ``n``."""
    text = ""
    n += 26 * 26  # at least three letters
    while n:
        n, r = divmod(n, 26)
        text = chr(65 + r) + text
    return ("Q" + text)[:6]


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    sponsor = factory.SubFactory(OrganisationFactory, sponsor=True)
    name = factory.Sequence(lambda n: f"Programme {n}")
    prefix = factory.Sequence(letters)
    face_value_cents = 1000
    passes_per_booklet = 10
    valid_until = factory.LazyFunction(lambda: date(timezone.localdate().year + 1, 12, 31))
    departments = factory.LazyFunction(lambda: ["33"])

    class Params:
        small = factory.Trait(passes_per_booklet=5)
        closed = factory.Trait(status=Programme.Status.CLOSED)


def order_number(sponsor):
    """The sponsor's next order number, from the numbering module as the service gives it."""
    from sponsors.services import next_order_number

    with transaction.atomic():
        return next_order_number(sponsor=sponsor, year=timezone.localdate().year)


class OrderFactory(factory.django.DjangoModelFactory):
    """A quote (use ``sponsors.services`` to confirm it and record its payment)."""

    class Meta:
        model = Order

    programme = factory.SubFactory(ProgrammeFactory)
    sponsor = factory.LazyAttribute(lambda o: o.programme.sponsor)
    number = factory.LazyAttribute(lambda o: order_number(o.sponsor))
    booklet_count = 2
    face_value_cents = factory.LazyAttribute(lambda o: o.booklet_count * 10 * 1000)
    fee_rate_bp = 400
    fee_cents = factory.LazyAttribute(lambda o: o.face_value_cents * 4 // 100)
    vat_rate_bp = 2000
    vat_cents = factory.LazyAttribute(lambda o: o.fee_cents // 5)
    total_cents = factory.LazyAttribute(lambda o: o.face_value_cents + o.fee_cents + o.vat_cents)


class SponsorInvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SponsorInvoice

    order = factory.SubFactory(OrderFactory, status=Order.Status.INVOICED)
    sponsor = factory.LazyAttribute(lambda o: o.order.programme.sponsor)
    year = 2099
    sequence = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda o: f"FAC-{o.year}-{o.sequence:06d}")
    issued_at = factory.LazyFunction(timezone.now)
    sponsor_name = factory.LazyAttribute(lambda o: o.sponsor.name)
    sponsor_siret = factory.LazyAttribute(lambda o: o.sponsor.siret)
    booklet_count = factory.LazyAttribute(lambda o: o.order.booklet_count)
    pass_count = factory.LazyAttribute(lambda o: o.order.booklet_count * 10)
    face_value_cents = factory.LazyAttribute(lambda o: o.order.face_value_cents)
    fee_rate_bp = 400
    fee_cents = factory.LazyAttribute(lambda o: o.order.fee_cents)
    vat_rate_bp = 2000
    vat_cents = factory.LazyAttribute(lambda o: o.order.vat_cents)
    total_cents = factory.LazyAttribute(lambda o: o.order.total_cents)
    pdf = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4 facture de test", name="facture.pdf"))


class ExportJobFactory(factory.django.DjangoModelFactory):
    """A finished background export of a sponsor's report, its file stored."""

    class Meta:
        model = "reporting.ExportJob"

    owner = factory.SubFactory("tests.factories.UserFactory")
    organisation = factory.SubFactory(OrganisationFactory, sponsor=True)
    kind = "programme_report"
    file_format = "csv"
    status = "done"
    row_count = 3
    rows_done = 3
    file_name = factory.Sequence(lambda n: f"rapport-programme-{n}.csv")
    file = factory.LazyAttribute(lambda o: ContentFile(b"tableau;nombre\r\n", name=o.file_name))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))

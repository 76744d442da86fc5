"""Factories of clearing (part 2): credit notes and expiry alerts. Each default creates its
sponsor's programme, as the cross-organisation walk needs."""

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from clearing.models import CreditNote, ExpiryAlert
from tests.sponsors.factories import ProgrammeFactory


class CreditNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditNote

    programme = factory.SubFactory(ProgrammeFactory)
    sponsor = factory.LazyAttribute(lambda o: o.programme.sponsor)
    year = 2099
    number = factory.Sequence(lambda n: f"AV-2099-{n + 1:06d}")
    issued_at = factory.LazyFunction(timezone.now)
    sponsor_name = factory.LazyAttribute(lambda o: o.sponsor.name)
    sponsor_siret = factory.LazyAttribute(lambda o: o.sponsor.siret)
    programme_name = factory.LazyAttribute(lambda o: o.programme.name)
    valid_until = factory.LazyAttribute(lambda o: o.programme.valid_until)
    expires_on = factory.LazyAttribute(lambda o: o.programme.valid_until)
    face_value_cents = 1000
    expired_pass_count = 3
    amount_cents = 3000
    pdf = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4 avoir de test", name="avoir.pdf"))


class ExpiryAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExpiryAlert

    programme = factory.SubFactory(ProgrammeFactory)
    days_before = 30
    valid_until = factory.LazyAttribute(lambda o: o.programme.valid_until)
    sent_at = factory.LazyFunction(timezone.now)

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import ProgrammingError, transaction
from django.utils import timezone
from PIL import Image

from passnum.audit.models import AuditLog
from passnum.errors import DomainError
from passnum.passes.models import Booklet, JournalKind, Pass, PassJournal, PassState
from sponsors import services
from sponsors.models import Order, Programme, SponsorInvoice
from tests.factories import OrganisationFactory
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def programme_data(**overrides):
    data = {
        "name": "Pass numérique Gironde",
        "prefix": "gir",
        "face_value_cents": 1000,
        "passes_per_booklet": 10,
        "valid_until": date(timezone.localdate().year + 1, 12, 31),
        "grace_months": 1,
        "grace_days": 0,
        "departments": ["33"],
        "communes": ["33063", "2A004"],
        "audiences": ["Seniors"],
        "cofunders": [("État (ANCT)", 5000)],
    }
    data.update(overrides)
    return data


def png(size=(40, 20), fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, fmt)
    return SimpleUploadedFile(f"logo.{fmt.lower()}", buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def test_create_programme_with_everything():
    sponsor = OrganisationFactory(sponsor=True)
    programme = services.create_programme(sponsor, programme_data(logo=png()))
    assert programme.prefix == "GIR"
    assert programme.cofunders.get().share_bp == 5000
    assert programme.communes == ["33063", "2A004"]
    assert programme.logo.name.startswith("sponsors/logos/") and programme.logo.name.endswith(".png")
    assert AuditLog.objects.filter(action="sponsors.programme.created").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"valid_until": date(2020, 1, 1)}, "valid_until", "futur"),
        ({"grace_months": -1}, "grace_months", "négatif"),
        ({"grace_days": -3}, "grace_months", "négatif"),
        ({"grace_months": 40}, "grace_months", "limité"),
        ({"departments": ["333A"]}, "departments", "département"),
        ({"departments": ["2C"]}, "departments", "département"),
        ({"communes": ["3306"]}, "communes", "INSEE"),
        ({"communes": ["2C004"]}, "communes", "INSEE"),
        ({"prefix": "G1"}, "prefix", "lettres"),
        ({"passes_per_booklet": 7}, "passes_per_booklet", "5 ou 10"),
        ({"face_value_cents": 0}, "face_value_cents", "valeur"),
        ({"cofunders": [("A", 6000), ("B", 5000)]}, "cofunders", "100 %"),
        ({"logo": SimpleUploadedFile("logo.png", b"not an image")}, "logo", "image"),
        ({"logo": png(fmt="GIF")}, "logo", "PNG ou JPEG"),
        ({"logo": png(size=(4100, 10))}, "logo", "trop grand"),
        ({"logo": SimpleUploadedFile("logo.png", b"x" * (2 * 1024 * 1024 + 1))}, "logo", "trop lourd"),
    ],
)
def test_bad_programme_input_is_refused_and_nothing_written(overrides, field, words):
    sponsor = OrganisationFactory(sponsor=True)
    with pytest.raises(DomainError) as caught:
        services.create_programme(sponsor, programme_data(**overrides))
    assert caught.value.field == field
    assert words in caught.value.message
    assert not Programme.objects.exists()


def test_prefix_is_unique():
    ProgrammeFactory(prefix="GIR")
    with pytest.raises(DomainError, match="déjà pris"):
        services.create_programme(OrganisationFactory(sponsor=True), programme_data())


def test_only_a_sponsor_creates_a_programme():
    with pytest.raises(DomainError):
        services.create_programme(OrganisationFactory(site=True), programme_data())


def test_quote_amounts_face_value_plus_fee_plus_vat_on_fee():
    programme = ProgrammeFactory()
    amounts = services.quote_amounts(programme, 2000)
    assert amounts == {
        "face_value_cents": 20_000_000,
        "fee_rate_bp": 400,
        "fee_cents": 800_000,
        "vat_rate_bp": 2000,
        "vat_cents": 160_000,
        "total_cents": 20_960_000,
    }


def test_rates_are_configurable_and_rounded_to_the_cent(settings):
    settings.PASSNUM_SPONSOR_FEE_RATE_BP = 333
    programme = ProgrammeFactory(face_value_cents=1001, passes_per_booklet=5)
    amounts = services.quote_amounts(programme, 1)  # 5005 cents
    assert amounts["fee_cents"] == 167  # 166.67 → 167
    assert amounts["vat_cents"] == 33  # 33.4 → 33
    assert amounts["total_cents"] == 5005 + 167 + 33


@pytest.mark.parametrize("count", [0, -1, 5001, 10**9, "12", None, True])
def test_zero_or_absurd_booklet_counts_are_refused(count):
    programme = ProgrammeFactory()
    with pytest.raises(DomainError) as caught:
        services.create_quote(programme, count)
    assert caught.value.field == "booklet_count"
    assert "entre 1 et 5000" in caught.value.message
    assert not Order.objects.exists()


def test_no_order_on_a_closed_programme():
    programme = ProgrammeFactory(closed=True)
    with pytest.raises(DomainError, match="clos"):
        services.create_quote(programme, 3)
    assert not Order.objects.exists()


def test_no_new_order_while_an_invoice_of_the_programme_is_unpaid():
    programme = ProgrammeFactory()
    services.confirm_order(services.create_quote(programme, 1))
    with pytest.raises(DomainError, match="pas encore payée"):
        services.create_quote(programme, 1)
    assert Order.objects.count() == 1


def test_quote_invoice_payment():
    programme = ProgrammeFactory(prefix="GIR", passes_per_booklet=5)
    order = services.create_quote(programme, 3)
    assert order.status == Order.Status.QUOTE and not Booklet.objects.exists()

    invoice = services.confirm_order(order)
    year = timezone.localdate().year
    assert invoice.number == f"FAC-{year}-000001"
    assert invoice.total_cents == 15000 + 600 + 120
    with invoice.pdf.open("rb") as pdf:
        assert pdf.read(4) == b"%PDF"
    order.refresh_from_db()
    assert order.status == Order.Status.INVOICED
    assert list(Booklet.objects.values_list("serial", flat=True)) == ["GIR000001", "GIR000002", "GIR000003"]
    assert Pass.objects.filter(state=PassState.CREATED).count() == 15
    assert PassJournal.objects.filter(kind=JournalKind.CREATED).count() == 15
    assert Pass.objects.first().expires_on == date(year + 2, 1, 31)

    with pytest.raises(DomainError, match="déjà confirmée"):
        services.confirm_order(order)

    with pytest.raises(DomainError) as caught:
        services.record_payment(invoice, paid_on=timezone.localdate() + timedelta(days=1), reference="VIR-1")
    assert caught.value.field == "paid_on"
    with pytest.raises(DomainError) as caught:
        services.record_payment(invoice, paid_on=timezone.localdate(), reference="  ")
    assert caught.value.field == "reference"

    services.record_payment(invoice, paid_on=timezone.localdate(), reference="Mandat 2026-42")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.paid_at
    with pytest.raises(DomainError, match="déjà enregistré"):
        services.record_payment(invoice, paid_on=timezone.localdate(), reference="again")

    # Next order of the same programme continues the numbering of booklets and invoices.
    second = services.confirm_order(services.create_quote(programme, 2))
    assert second.number == f"FAC-{year}-000002"
    assert Booklet.objects.filter(order=second.order).first().serial == "GIR000004"


def test_issued_invoice_is_immutable_in_the_database():
    invoice = services.confirm_order(services.create_quote(ProgrammeFactory(), 1))
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        SponsorInvoice.objects.filter(pk=invoice.pk).update(sponsor_name="Autre")
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        SponsorInvoice.objects.filter(pk=invoice.pk).delete()
    invoice.refresh_from_db()
    assert invoice.sponsor_name != "Autre"


def test_cancelled_quote_takes_no_number():
    programme = ProgrammeFactory()
    services.cancel_quote(services.create_quote(programme, 1))
    invoice = services.confirm_order(services.create_quote(programme, 1))
    assert invoice.number.endswith("-000001")


def test_two_thousand_booklets_are_generated_with_unique_codes():
    # Behaviour only: how long it takes is a benchmark's business, not a test's.
    programme = ProgrammeFactory()
    order = services.create_quote(programme, 2000)
    services.confirm_order(order)
    assert Pass.objects.filter(booklet__order=order).count() == 20_000
    assert PassJournal.objects.count() == 20_000
    assert Pass.objects.values("code").distinct().count() == 20_000

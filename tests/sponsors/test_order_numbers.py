"""Orders carry a human number per sponsor and year (CMD-2026-0001), given by the numbering
module when the quote is made, unique per sponsor in the database, shown wherever an order is
named; orders made before numbering got theirs by a data migration, in creation order."""

import datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from passnum.numbering.models import DocumentCounter, Series
from sponsors import services
from sponsors.models import Order
from tests.factories import OrganisationFactory
from tests.sponsors.factories import OrderFactory, ProgrammeFactory

PARIS = datetime.timezone(datetime.timedelta(hours=1))  # winter time, enough for these dates


@pytest.mark.django_db
def test_each_sponsor_counts_its_orders_from_one_every_year():
    gironde, landes = OrganisationFactory(sponsor=True), OrganisationFactory(sponsor=True)
    with time_machine.travel(datetime.datetime(2031, 3, 2, 10, tzinfo=PARIS), tick=False):
        numbers = [services.create_quote(ProgrammeFactory(sponsor=gironde), 1).number for _ in range(2)]
        cancelled = services.create_quote(ProgrammeFactory(sponsor=gironde), 1)
        services.cancel_quote(cancelled)  # an abandoned quote keeps its number: no gap, no reuse
        numbers.append(services.create_quote(ProgrammeFactory(sponsor=gironde), 1).number)
        other = services.create_quote(ProgrammeFactory(sponsor=landes), 1).number
    with time_machine.travel(datetime.datetime(2032, 1, 5, 10, tzinfo=PARIS), tick=False):
        next_year = services.create_quote(ProgrammeFactory(sponsor=gironde, valid_until=datetime.date(2033, 12, 31)), 1)
    assert numbers == ["CMD-2031-0001", "CMD-2031-0002", "CMD-2031-0004"]
    assert cancelled.number == "CMD-2031-0003"
    assert other == "CMD-2031-0001"
    assert next_year.number == "CMD-2032-0001" and next_year.sponsor == gironde
    counters = DocumentCounter.objects.filter(series=Series.CMD)
    assert {(c.organisation_id, c.year, c.last_number) for c in counters} == {
        (gironde.pk, 2031, 4),
        (landes.pk, 2031, 1),
        (gironde.pk, 2032, 1),
    }


@pytest.mark.django_db
def test_a_number_is_unique_per_sponsor_in_the_database():
    order = OrderFactory()
    OrderFactory(number=order.number)  # another sponsor may hold the same number
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(programme=ProgrammeFactory(sponsor=order.sponsor), number=order.number)


@pytest.mark.django_db
def test_the_numbering_module_refuses_a_series_without_its_owner():
    from passnum.numbering.services import next_number

    with transaction.atomic():
        with pytest.raises(ValueError, match="par organisation"):
            next_number(series=Series.CMD, year=2031)
        with pytest.raises(ValueError, match="sans organisation"):
            next_number(series=Series.FAC, year=2031, organisation=OrganisationFactory(sponsor=True))


@pytest.mark.django_db
def test_pages_name_the_order_by_its_number(client, member_of):
    sponsor = OrganisationFactory(sponsor=True)
    client.force_login(member_of(sponsor, role="admin"))
    order = services.create_quote(ProgrammeFactory(sponsor=sponsor), 2)
    services.record_payment(services.confirm_order(order), paid_on=timezone.localdate(), reference="VIR-1")
    year = timezone.localdate().year
    assert order.number == f"CMD-{year}-0001"
    pages = [
        reverse("sponsors:home"),
        reverse("sponsors:programme", args=[order.programme.pk]),
        reverse("sponsors:order", args=[order.pk]),
        reverse("sponsors:order_allocate", args=[order.pk]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert order.number in html, url
        assert "Commande n°" not in html and "commande n°" not in html, url


@pytest.mark.django_db(transaction=True)
def test_orders_made_before_numbering_are_numbered_in_creation_order_per_sponsor_and_year():
    before = [("sponsors", "0003_remove_invoicecounter"), ("numbering", "0002_copy_sponsor_invoice_counters")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    Organisation = old_apps.get_model("organisations", "Organisation")
    Programme = old_apps.get_model("sponsors", "Programme")
    OldOrder = old_apps.get_model("sponsors", "Order")
    amounts = {
        "booklet_count": 1,
        "face_value_cents": 10000,
        "fee_rate_bp": 400,
        "fee_cents": 400,
        "vat_rate_bp": 2000,
        "vat_cents": 80,
        "total_cents": 10480,
    }

    def programme(sponsor, prefix):
        return Programme.objects.create(
            sponsor=sponsor, name=prefix, prefix=prefix, valid_until=datetime.date(2040, 12, 31)
        )

    gironde = Organisation.objects.create(kind="sponsor", name="Gironde", siret="22330001300016")
    landes = Organisation.objects.create(kind="sponsor", name="Landes", siret="22400001200015")
    first, second = programme(gironde, "GIA"), programme(gironde, "GIB")
    created = {}
    # Made out of creation order on purpose: the ids do not follow the dates.
    for name, prog, when in [
        ("gironde 2025 b", second, datetime.datetime(2025, 11, 3, 9, tzinfo=datetime.UTC)),
        ("gironde 2025 a", first, datetime.datetime(2025, 2, 1, 9, tzinfo=datetime.UTC)),
        # 31 December 23:30 UTC is already 1 January in Paris: an order of the new year.
        ("gironde 2026 a", first, datetime.datetime(2025, 12, 31, 23, 30, tzinfo=datetime.UTC)),
        ("gironde 2026 b", second, datetime.datetime(2026, 4, 1, 9, tzinfo=datetime.UTC)),
        ("landes 2026 a", programme(landes, "LAN"), datetime.datetime(2026, 3, 1, 9, tzinfo=datetime.UTC)),
    ]:
        order = OldOrder.objects.create(programme=prog, **amounts)
        OldOrder.objects.filter(pk=order.pk).update(created_at=when)  # auto_now_add: set afterwards
        created[name] = order.pk

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    numbers = {name: Order.objects.get(pk=pk).number for name, pk in created.items()}
    assert numbers == {
        "gironde 2025 a": "CMD-2025-0001",
        "gironde 2025 b": "CMD-2025-0002",
        "gironde 2026 a": "CMD-2026-0001",
        "gironde 2026 b": "CMD-2026-0002",
        "landes 2026 a": "CMD-2026-0001",
    }
    assert all(o.sponsor_id == o.programme.sponsor_id for o in Order.objects.select_related("programme"))
    # The next order of the sponsor follows the migrated ones.
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=PARIS), tick=False):
        from sponsors.models import Programme as CurrentProgramme

        order = services.create_quote(CurrentProgramme.objects.get(pk=first.pk), 1)
    assert order.number == "CMD-2026-0003"

"""The reports' nightly totals: a report read from the totals of the closed days plus the live rows
since is the same as a report computed live from every row — after redemptions on both sides of
a Paris midnight and of a month's end, an undo the next day, offline scans received days later,
hand-overs undone — and the rollup adds each closed day once, whatever the number of runs."""

import datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from beneficiaries import selectors as beneficiary_selectors
from beneficiaries import services as beneficiary_services
from beneficiaries.models import HandOverMonthTotal, HandOverRollup
from clearing.services import PARIS
from mediators.redemption import selectors as redemption_selectors
from mediators.redemption import services as redemption_services
from mediators.redemption.models import (
    RedemptionDayTotal,
    RedemptionPlaceMonthTotal,
    RedemptionRollup,
    RedemptionServiceMonthTotal,
)
from passnum.passes import services as pass_services
from sponsors.reporting.periods import Period
from sponsors.reporting.selectors import programme_report
from tests.beneficiaries.factories import BeneficiaryFactory, HandOverFactory, booklets_in_stock
from tests.factories import OrganisationFactory
from tests.mediators.factories import redeem_passes, redeeming_site

pytestmark = pytest.mark.django_db

TOTALS = [RedemptionDayTotal, RedemptionPlaceMonthTotal, RedemptionServiceMonthTotal, HandOverMonthTotal]


def paris(month, day, hour=12, minute=0, second=0):
    return datetime.datetime(2026, month, day, hour, minute, second, tzinfo=PARIS)


def roll_up(now):
    with time_machine.travel(now, tick=False):
        return redemption_services.roll_up_totals(), beneficiary_services.roll_up_totals()


def figures(programme):
    """Every aggregate the report reads, for the whole programme and for whole months."""
    result = {}
    periods = {
        "whole": Period(),
        "november": Period(datetime.date(2026, 11, 1), datetime.date(2026, 11, 1)),
        "from december": Period(first_month=datetime.date(2026, 12, 1)),
    }
    for name, period in periods.items():
        window = {"programme_id": programme.pk, "start": period.start, "end": period.end}
        result[name] = {
            "months": redemption_selectors.programme_redemptions_over_time(period="month", **window),
            "weeks": redemption_selectors.programme_redemptions_over_time(period="week", **window),
            "services": redemption_selectors.programme_redemptions_by_service(**window),
            "places": redemption_selectors.programme_redemptions_by_point(**window),
            "place communes": redemption_selectors.programme_redemptions_by_place_commune(**window),
            "places by month": sorted(
                redemption_selectors.programme_redemptions_by_point_and_month(programme_id=programme.pk),
                key=lambda row: (row["point_id"], row["month"]),
            ),
            "departments": beneficiary_selectors.programme_hand_overs_by_department(**window),
            "prescribers": beneficiary_selectors.programme_hand_overs_by_prescriber(**window),
            "report": programme_report(programme=programme, period=period, today=datetime.date(2026, 12, 6)),
        }
    return result


def live_figures(programme):
    """The same, computed live from every row: as if no rollup had ever run (rolled back)."""
    with transaction.atomic():
        RedemptionRollup.objects.all().delete()
        HandOverRollup.objects.all().delete()
        for model in TOTALS:
            model.objects.all().delete()
        result = figures(programme)
        transaction.set_rollback(True)
    return result


def totals_rows():
    return {model.__name__: sorted(model.objects.values_list(*_columns(model))) for model in TOTALS}


def _columns(model):
    return [f.attname for f in model._meta.concrete_fields if f.name != "id"]


@pytest.fixture
def story():
    """A programme from 30 November 2026: two sites, hand-overs by two prescribers, redemptions
    on each side of midnights and of the month's end (redeemed by the service, at the server's
    time)."""
    with time_machine.travel(paris(11, 30, 9), tick=False):
        prescriber = OrganisationFactory(prescriber=True, name="Mairie de Pessac")
        other = OrganisationFactory(prescriber=True, name="CCAS de Talence")
        booklets = booklets_in_stock(prescriber, 8, departments=["33", "971"], communes=[])
        places = [redeeming_site(), redeeming_site(service_code=2)]
        for booklet in booklets:
            pass_services.hand_out_booklet(booklet)
    return {"prescribers": [prescriber, other], "booklets": booklets, "places": places}


def redeem(place, booklet, when, count=1, scanned_at=None):
    """``count`` one-pass redemptions at ``when`` (the server's time); the last one."""
    for pass_ in list(booklet.passes.filter(state="active").order_by("position")[:count]):
        with time_machine.travel(when, tick=False), transaction.atomic():
            redemption = redeem_passes(place, [pass_], scanned_at=scanned_at)
    return redemption


def hand_over(story, index, when, commune="33063"):
    booklet = story["booklets"][index]
    prescriber = story["prescribers"][index % 2]
    beneficiary = BeneficiaryFactory(created_by=prescriber, programme=booklet.programme, commune=commune)
    return HandOverFactory(organisation=prescriber, booklet=booklet, beneficiary=beneficiary, at=when)


def test_totals_plus_live_rows_equal_the_live_report_day_after_day(story):
    booklets, (place, other_place) = story["booklets"], story["places"]
    programme = booklets[0].programme
    for i, when in enumerate([paris(11, 30, 10), paris(11, 30, 23, 59, 30), paris(12, 1, 0, 0, 30), paris(12, 2)]):
        hand_over(story, i, when, commune=["33063", "97105"][i % 2])
    # 30 November, Paris time: one redemption at 10:00, two just before midnight (22:59:30 UTC).
    redeem(place, booklets[0], paris(11, 30, 10), count=2)
    late = redeem(other_place, booklets[1], paris(11, 30, 23, 59, 30))
    redeem(place, booklets[1], paris(11, 30, 23, 59, 45))
    # 1 December, just after midnight: another day, another month.
    redeem(place, booklets[2], paris(12, 1, 0, 0, 30), count=3)
    roll_up(paris(12, 1, 0, 40))  # the nightly run: 30 November can still be undone, nothing closed
    assert RedemptionRollup.objects.get().closed_before == paris(11, 30, 0)
    assert not RedemptionDayTotal.objects.exists()
    assert figures(programme) == live_figures(programme)

    # 1 December, evening: the 23:59:30 redemption of the 30th undone (within 24 hours), and an
    # offline scan of the 30th received now (the redemption is dated when received).
    with time_machine.travel(paris(12, 1, 20), tick=False):
        redemption_services.undo_redemption(other_place.organisation, late.pk, user=other_place.user)
    offline = redeem(other_place, booklets[3], paris(12, 1, 21), count=2, scanned_at=paris(11, 30, 15))
    assert offline.redeemed_at == paris(12, 1, 21)
    roll_up(paris(12, 2, 0, 40))  # 30 November closed, with its undo
    assert RedemptionRollup.objects.get().closed_before == paris(12, 1, 0)
    day = RedemptionDayTotal.objects.get(day=datetime.date(2026, 11, 30))
    assert (day.count, day.passes) == (3, 3)  # the undone redemption is not counted
    assert figures(programme) == live_figures(programme)

    # 2 December: more redemptions and an offline scan of the 1st; then several nights.
    redeem(place, booklets[4], paris(12, 2, 9), count=4)
    redeem(other_place, booklets[5], paris(12, 2, 18), scanned_at=paris(12, 1, 11))
    assert figures(programme) == live_figures(programme)  # 1 December from the totals? not yet: live
    roll_up(paris(12, 3, 0, 40))
    roll_up(paris(12, 4, 0, 40))
    assert RedemptionRollup.objects.get().closed_before == paris(12, 3, 0)
    assert HandOverRollup.objects.get().closed_before == paris(12, 4, 0)
    assert RedemptionDayTotal.objects.filter(programme=programme).count() == 3
    assert sum(RedemptionPlaceMonthTotal.objects.values_list("count", flat=True)) == 13
    assert figures(programme) == live_figures(programme)
    redeem(place, booklets[6], paris(12, 4, 9), count=2)  # a day not rolled up yet: read live
    assert figures(programme) == live_figures(programme)


def test_a_redemption_just_before_a_paris_midnight_counts_on_its_paris_day(story):
    booklets, (place, _other) = story["booklets"], story["places"]
    programme = booklets[0].programme
    redeem(place, booklets[0], paris(11, 30, 23, 59, 59))  # 22:59:59 UTC: still 30 November in Paris
    redeem(place, booklets[0], paris(12, 1, 0, 0, 1))
    roll_up(paris(12, 3, 1))
    days = dict(RedemptionDayTotal.objects.values_list("day", "count"))
    assert days == {datetime.date(2026, 11, 30): 1, datetime.date(2026, 12, 1): 1}
    months = dict(RedemptionServiceMonthTotal.objects.values_list("month", "passes"))
    assert months == {datetime.date(2026, 11, 1): 1, datetime.date(2026, 12, 1): 1}
    assert figures(programme)["november"]["months"] == [
        {"period": datetime.date(2026, 11, 1), "count": 1, "passes": 1, "cents": programme.face_value_cents}
    ]
    assert figures(programme) == live_figures(programme)


def test_an_undone_hand_over_is_never_counted(story):
    programme = story["booklets"][0].programme
    kept = hand_over(story, 0, paris(11, 30, 10))
    with time_machine.travel(paris(11, 30, 11), tick=False):
        undone = hand_over(story, 1, paris(11, 30, 11))
        beneficiary_services.undo_hand_over(undone)
    roll_up(paris(12, 2, 1))
    assert list(HandOverMonthTotal.objects.values_list("prescriber_id", "count")) == [(kept.organisation_id, 1)]
    assert figures(programme) == live_figures(programme)


def test_the_rollup_adds_each_closed_day_once_however_often_it_runs(story):
    booklets, (place, other_place) = story["booklets"], story["places"]
    for i, day in enumerate((30, 1, 2)):
        month = 11 if day == 30 else 12
        redeem(place if i % 2 else other_place, booklets[i], paris(month, day, 10), count=i + 1)
        hand_over(story, i, paris(month, day, 10))
    first = roll_up(paris(12, 3, 1))
    assert first[0]["closed_before"] == paris(12, 2, 0)
    rows = totals_rows()
    again = roll_up(paris(12, 3, 6))  # the same night again: nothing new
    assert again[0]["closed_before"] is None and again[1]["closed_before"] is None
    assert totals_rows() == rows
    with time_machine.travel(paris(12, 3, 7), tick=False):
        redemption_services.roll_up_totals(rebuild=True)
        beneficiary_services.roll_up_totals(rebuild=True)
    assert totals_rows() == rows  # rebuilt from scratch: the same totals
    assert figures(booklets[0].programme) == live_figures(booklets[0].programme)


def test_the_page_asks_as_many_queries_with_totals_as_without(story, client, member_of):
    booklets, (place, _other) = story["booklets"], story["places"]
    programme = booklets[0].programme
    redeem(place, booklets[0], paris(11, 30, 10), count=3)
    hand_over(story, 0, paris(11, 30, 10))
    client.force_login(member_of(programme.sponsor, role="admin"))
    url = reverse("sponsors:programme", kwargs={"pk": programme.pk})
    client.get(url)  # warm the session and the referential caches
    with CaptureQueriesContext(connection) as live_queries:
        assert client.get(url).status_code == 200
    roll_up(paris(12, 3, 1))
    assert RedemptionDayTotal.objects.exists()
    with CaptureQueriesContext(connection) as totals_queries:
        response = client.get(url)
    assert response.context["report"]["by_month"]["total"]["count"] == 3
    assert len(totals_queries) == len(live_queries) <= 20

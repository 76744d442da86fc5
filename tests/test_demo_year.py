"""The demo's year of use (passnum/demo_year.py): a 2,000-booklet programme handed out and
redeemed over twelve months with the seasons, an idle prescriber, a busy site, its months closed
and paid, the accounts balanced; a second run adds nothing."""

import datetime
import json
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from beneficiaries.models import HandOver
from clearing.models import Statement, StatementStatus
from mediators.redemption import selectors as redemption_selectors
from mediators.redemption.models import Redemption
from passnum import demo_year
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import Booklet, Pass
from sponsors import selectors as sponsor_selectors
from sponsors.models import Programme

pytestmark = pytest.mark.django_db


def month_of(moment):
    return timezone.localtime(moment).date().replace(day=1)


def test_the_demo_tells_a_year_of_use_with_seasons_an_idle_prescriber_and_a_busy_site():
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    story = json.loads(out.getvalue())["year_of_use"]
    programme = Programme.objects.get(prefix=demo_year.PREFIX)
    assert story["programme"] == programme.name and story["booklets"] == 2000
    assert Booklet.objects.filter(programme=programme).count() == 2000
    now, today = timezone.now(), timezone.localdate()

    # Hand-overs over the whole year, the first one about twelve months ago.
    hand_overs = HandOver.objects.filter(booklet__programme=programme)
    assert hand_overs.count() > 1000
    dates = list(hand_overs.values_list("at", flat=True))
    assert min(dates) < now - datetime.timedelta(days=320) and len({month_of(d) for d in dates}) >= 12
    assert Pass.objects.filter(programme=programme, state="active").exists()

    # One idle prescriber: its booklets sit in stock, untouched for more than 60 days; the
    # others' stock is mostly fresh.
    stock = {
        row["prescriber_name"]: row
        for row in pass_selectors.programme_stock_by_prescriber(
            programme_id=programme.pk, idle_since=now - datetime.timedelta(days=60)
        )
    }
    idle = stock[demo_year.IDLE_PRESCRIBER]
    assert idle["idle"] == idle["in_stock"] >= 250
    assert all(row["idle"] * 5 < idle["idle"] for name, row in stock.items() if name != demo_year.IDLE_PRESCRIBER)
    last_hand_over = hand_overs.filter(organisation__name=demo_year.IDLE_PRESCRIBER).latest("at").at
    assert last_hand_over < now - datetime.timedelta(days=90)

    # One busy site: more than three times as many redemptions as any other site.
    per_site = Counter()
    for row in redemption_selectors.programme_redemptions_by_point(programme_id=programme.pk):
        per_site[row["site_name"]] += row["count"]
    busy = per_site.pop(demo_year.BUSY_SITE)
    assert len(per_site) >= 4 and busy > 3 * max(per_site.values())
    assert len({row["service_id"] for row in redemption_selectors.programme_redemptions_by_service(
        programme_id=programme.pk)}) >= 4  # fmt: skip

    # Seasons: of the complete months of the year (the first, still filling up, left out), a
    # month the demo makes at most half as busy as another has fewer redemptions — August fewer
    # than October.
    start = month_of(now - datetime.timedelta(days=330))
    counts = Counter(
        month_of(at) for at in Redemption.objects.filter(programme=programme).values_list("redeemed_at", flat=True)
    )
    complete = {m: n for m, n in counts.items() if m > start and m < today.replace(day=1)}
    pairs = [
        (a, b) for a in complete for b in complete if demo_year.SEASON[a.month - 1] * 2 <= demo_year.SEASON[b.month - 1]
    ]
    assert pairs  # whatever the day the demo runs, its year holds such months
    for quiet, busy_month in pairs:
        assert complete[quiet] < complete[busy_month], (quiet, busy_month, complete)
    august = [n for m, n in complete.items() if m.month == 8]
    october = [n for m, n in complete.items() if m.month == 10]
    if august and october:
        assert max(august) < min(october)

    # The programme ends within the month: it is among those nearing expiry, passes still usable.
    assert programme in sponsor_selectors.programmes_ending_soon(today=today, within_days=30)

    # Every past month closed (a statement per site and month), older months paid, accounts balanced.
    statements = Statement.objects.filter(lines__programme_id=programme.pk).distinct()
    assert len({s.month for s in statements}) >= 11
    assert statements.filter(status=StatementStatus.PAID).values("site").distinct().count() >= 5
    this_month = timezone.make_aware(datetime.datetime.combine(today.replace(day=1), datetime.time.min))
    past = Redemption.objects.filter(programme=programme, redeemed_at__lt=this_month)
    assert past.exists() and not past.filter(settled_at=None).exists()
    ledger = StringIO()
    call_command("check_ledger", stdout=ledger)
    assert "équilibrés" in ledger.getvalue()

    counts_before = [m.objects.count() for m in (Booklet, HandOver, Redemption, Statement)]
    call_command("demo", "--json", stdout=StringIO())
    assert [m.objects.count() for m in (Booklet, HandOver, Redemption, Statement)] == counts_before
